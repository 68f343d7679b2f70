import type { Config } from '../config/schema.js';
import { CdnListError, checkPlausible, normaliseRanges, parseCdnDocument } from '../policy/cdn-parse.js';
import { CDN_SOURCES, type CdnProvider } from '../policy/cdn-ranges.js';
import type { Store } from '../store/store.js';
import { cdnList, policyData } from './rules.js';

export interface FetchLimits {
  /** Per request. */
  readonly timeoutMs: number;
  /** Largest body accepted; AWS's ip-ranges.json, the largest of the official documents, is a few MB. */
  readonly maxBytes: number;
}

export const DEFAULT_LIMITS: FetchLimits = { timeoutMs: 30_000, maxBytes: 16 * 1024 * 1024 };

export type CdnUpdateResult =
  | {
      provider: CdnProvider;
      ok: true;
      asOf: string;
      ranges: number;
      previous: number;
      added: number;
      removed: number;
      urls: readonly string[];
    }
  | { provider: CdnProvider; ok: false; error: string; kept: number; urls: readonly string[] };

/** GETs `url` as text within the limits; every failure is a CdnListError saying what went wrong. */
export async function fetchText(url: string, limits: FetchLimits): Promise<string> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), limits.timeoutMs);
  try {
    let res: Response;
    try {
      res = await fetch(url, { signal: controller.signal, redirect: 'follow', headers: { accept: 'application/json, text/plain' } });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      if (controller.signal.aborted) throw new CdnListError(`${url}: no answer within ${limits.timeoutMs / 1000}s`);
      throw new CdnListError(`${url}: ${e.cause?.code ?? e.cause?.message ?? e.message}`);
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new CdnListError(`${url}: HTTP ${res.status} ${res.statusText}`.trim());
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new CdnListError(`${url}: ${declared} bytes, more than the ${limits.maxBytes} accepted`);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for await (const chunk of res.body ?? []) {
        size += chunk.byteLength;
        if (size > limits.maxBytes) {
          controller.abort();
          throw new CdnListError(`${url}: more than the ${limits.maxBytes} bytes accepted`);
        }
        chunks.push(chunk);
      }
    } catch (err) {
      if (err instanceof CdnListError) throw err;
      if (controller.signal.aborted) throw new CdnListError(`${url}: no complete answer within ${limits.timeoutMs / 1000}s`);
      throw new CdnListError(`${url}: ${(err as Error).message}`);
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `blocker cdn update`: fetches each provider's published list, validates it,
 * and stores it with its date. A provider whose fetch or list fails keeps its
 * last good list (fetched or bundled); the others are still updated.
 */
export async function updateCdnLists(
  store: Store,
  cfg: Config,
  providers: readonly CdnProvider[],
  opts: { now: number; force?: boolean; limits?: FetchLimits },
): Promise<CdnUpdateResult[]> {
  const limits = opts.limits ?? DEFAULT_LIMITS;
  const results: CdnUpdateResult[] = [];
  for (const provider of providers) {
    const urls = cfg.policy.cdnUrls[provider] ?? CDN_SOURCES[provider].urls;
    const current = cdnList(provider, policyData(store));
    try {
      const docs = await Promise.all(urls.map((u) => fetchText(u, limits)));
      const parsed = docs.map((body, i) => parseCdnDocument(CDN_SOURCES[provider].format, body, urls[i]!));
      const ranges = normaliseRanges(parsed.flatMap((p) => p.ranges));
      checkPlausible(provider, ranges, current.ranges.length, opts.force ?? false);
      const dates = parsed.map((p) => p.asOf).filter((d): d is string => d !== null);
      const asOf = dates.length ? dates.sort()[0]! : new Date(opts.now).toISOString().slice(0, 10);
      const before = new Set(current.ranges.map((r) => r.text));
      const after = new Set(ranges.map((r) => r.text));
      store.cdnLists.save({ provider, asOf, fetchedAt: opts.now, source: urls.join(' '), ranges });
      results.push({
        provider,
        ok: true,
        asOf,
        ranges: ranges.length,
        previous: current.ranges.length,
        added: [...after].filter((r) => !before.has(r)).length,
        removed: [...before].filter((r) => !after.has(r)).length,
        urls,
      });
    } catch (err) {
      if (!(err instanceof CdnListError)) throw err;
      results.push({ provider, ok: false, error: err.message, kept: current.ranges.length, urls });
    }
  }
  return results;
}
