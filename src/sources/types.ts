import type { FilePosition } from '../store/offsets.js';

/** Complete lines read by one poll, and the position just after the last of them. */
export interface LineBatch {
  readonly lines: string[];
  readonly position: FilePosition;
}

export interface SourceLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
}
