import { createGoSignature } from './go.js';
import { createNginxSignature } from './nginx.js';
import type { Signature } from './types.js';

export const FORMAT_NAMES = ['nginx', 'go'] as const;
export type FormatName = (typeof FORMAT_NAMES)[number];

const FACTORIES: Record<FormatName, () => Signature> = {
  nginx: createNginxSignature,
  go: createGoSignature,
};

/** A fresh signature (each keeps a small per-stream cache, so one per source). */
export function createSignature(format: FormatName): Signature {
  return FACTORIES[format]();
}
