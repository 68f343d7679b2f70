/**
 * The typed-array columns of the address tables (keyed-rows.ts and its owners).
 *
 * A table that grows to a million rows reallocates each column a dozen times
 * on the way. As plain typed arrays, each old array went back to malloc,
 * which kept much of it: after the live bench's million addresses, malloc_trim
 * released 11 MB the daemon no longer used. So a column of a megabyte or more
 * gets a WebAssembly.Memory of its own instead: V8 maps its pages itself,
 * outside malloc, and unmaps them when the old column is collected, and rows
 * never written (the slack a doubling leaves) are never backed by memory.
 *
 * Each Memory is allocated once and never grown: growing one detaches its old
 * buffer, and a single detached buffer makes V8 check every typed-array
 * access in the process for detachment from then on (measured: `blocker
 * check` 5–10% slower).
 *
 * V8 reserves address space for a Memory (about 10 GiB each on x86-64), not
 * memory: VIRT in `top` grows, RSS does not. Where a Memory cannot be had
 * (WebAssembly disabled, address space limited by `ulimit -v`), the column
 * is a plain array.
 */

const PAGE = 65536;
/** Below this a column is a plain array: small tables (most, and most tests') stay cheap to make. */
const MEMORY_FROM_BYTES = 1 << 20;

type Column = Float64Array | Int32Array;
type ColumnType<T extends Column> = { new (length: number): T; new (buffer: ArrayBuffer, offset: number, length: number): T; BYTES_PER_ELEMENT: number };

/** Buffers of the Memories made here (for tests). */
const memoryBuffers = new WeakSet<ArrayBufferLike>();

/**
 * `column` reallocated for `capacity` rows of `width` numbers, keeping its
 * first `rows` rows; the other rows are zero.
 */
export function regrow<T extends Column>(column: T, capacity: number, rows: number, width = 1): T {
  const type = column.constructor as ColumnType<T>;
  const length = capacity * width;
  const bytes = length * type.BYTES_PER_ELEMENT;
  const out = bytes >= MEMORY_FROM_BYTES ? inMemory(type, length, bytes) : new type(length);
  out.set(column.subarray(0, Math.min(rows, capacity) * width));
  return out;
}

/** A zeroed column of `length` numbers in a Memory of its own, or a plain one where there is none to have. */
function inMemory<T extends Column>(type: ColumnType<T>, length: number, bytes: number): T {
  const pages = Math.ceil(bytes / PAGE);
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
  } catch {
    return new type(length);
  }
  memoryBuffers.add(memory.buffer);
  return new type(memory.buffer as ArrayBuffer, 0, length);
}

/** True when the column lives in a Memory of its own. */
export function inOwnMemory(column: Column): boolean {
  return memoryBuffers.has(column.buffer);
}
