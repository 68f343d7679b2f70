import { createHash } from 'node:crypto';
import { readSync } from 'node:fs';

export const FINGERPRINT_BYTES = 64;

/**
 * Identifies a file by its first bytes ("<length>:<sha1>"), so a new file that
 * got the inode of a deleted one is not mistaken for it. Files shorter than the
 * full length are fingerprinted over what they have; `matches` compares over
 * the stored length.
 */
export function fingerprintOf(fd: number, size: number, length = Math.min(size, FINGERPRINT_BYTES)): string {
  return fingerprintOfBytes(readHead(fd, length));
}

export function fingerprintOfBytes(head: Buffer): string {
  return `${head.length}:${createHash('sha1').update(head).digest('hex')}`;
}

/** The first `length` bytes of the file (fewer if it is shorter). */
export function readHead(fd: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = length ? readSync(fd, buf, 0, length, 0) : 0;
  return buf.subarray(0, n);
}

export function fingerprintLength(fp: string): number {
  return Number(fp.split(':', 1)[0]);
}

export function fingerprintMatches(fd: number, size: number, stored: string): boolean {
  const length = fingerprintLength(stored);
  if (!Number.isInteger(length) || length > size) return false;
  return fingerprintOf(fd, size, length) === stored;
}
