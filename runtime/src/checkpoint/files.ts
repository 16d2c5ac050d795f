// The byte positions of a file source (LANGUAGE.md §12: "file: byte offset and line").
//
// The readers (io/) yield batches of records; which bytes a batch came from they do not say. So
// with --checkpoint the file's chunks are re-cut at record boundaries before a reader sees them:
// each chunk handed on ends just after a line break that ends a record (for CSV: a line break
// outside quotes — an even number of `"` since the previous boundary), and the bytes after it
// wait for the next chunk. A reader then never carries a partial record from one chunk to the
// next, so every batch lies inside one chunk, and a position is "the start of chunk c (byte
// offset, lines before it) + the good records of c already consumed". Chunks are also cut into
// pieces of at most 64 KiB: checkpoints come between batches, so this is their granularity. A restore opens the file
// at that offset (Env.openInputAt, or by reading past it), counts lines from there, and drops
// those records again (CheckpointRun.batch). A CSV file resumed past its start is given its
// header line first, so the reader knows the columns.
//
// Nothing here runs without --checkpoint: the plain reading path is unchanged.

import type { ByteSource, Env } from "../env.js";

/** Where a chunk starts: byte offset in the file and the number of line breaks before it. */
export interface FilePoint {
  offset: number;
  line: number;
}

/** The chunk a reader is working on (updated as chunks are handed on). */
export class ChunkTracker {
  /** Chunks handed on so far (the current one's number). */
  id = 0;
  start: FilePoint;
  constructor(start: FilePoint) {
    this.start = { ...start };
  }
}

const LF = 10;
/** The largest piece handed on (see alignedChunks). */
const PIECE = 64 * 1024;
const QUOTE = 34;

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a, 0);
  out.set(b, a.byteLength);
  return out;
}

function countLines(b: Uint8Array): number {
  let n = 0;
  for (let p = b.indexOf(LF); p >= 0; p = b.indexOf(LF, p + 1)) n++;
  return n;
}

/**
 * The end (index after the line break) of the last record boundary in `b`, or 0 when there is
 * none. `b` starts at a boundary. CSV: a line break is a boundary outside quotes only.
 */
function lastBoundary(b: Uint8Array, csv: boolean): number {
  if (!csv) return b.lastIndexOf(LF) + 1;
  let quotes = 0;
  let cut = 0;
  for (let i = 0; i < b.byteLength; i++) {
    const c = b[i]!;
    if (c === QUOTE) quotes ^= 1;
    else if (c === LF && quotes === 0) cut = i + 1;
  }
  return cut;
}

/** Chunks of `src` cut at record boundaries, counted in `tracker` (see the file comment). */
export async function* alignedChunks(src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, tracker: ChunkTracker, csv: boolean): AsyncGenerator<Uint8Array> {
  let carry: Uint8Array | undefined;
  const next = { ...tracker.start };
  const hand = (piece: Uint8Array) => {
    tracker.id++;
    tracker.start = { ...next };
    next.offset += piece.byteLength;
    next.line += countLines(piece);
  };
  for await (const chunk of src as AsyncIterable<Uint8Array>) {
    const buf = carry === undefined ? chunk : concat(carry, chunk);
    const cut = lastBoundary(buf, csv);
    // A copy (not Buffer#slice, a view): the producer may reuse the chunk's buffer.
    carry = cut < buf.byteLength ? Uint8Array.prototype.slice.call(buf, cut) : undefined;
    if (cut === 0) continue;
    // Pieces of at most PIECE bytes (a longer record is one piece): a checkpoint may be taken
    // after each, and a restore reads at most one piece again.
    let from = 0;
    while (from < cut) {
      let to = cut;
      if (cut - from > PIECE) {
        const inner = lastBoundary(buf.subarray(from, from + PIECE), csv);
        if (inner > 0) to = from + inner;
      }
      const piece = buf.subarray(from, to);
      hand(piece);
      yield piece;
      from = to;
    }
  }
  if (carry !== undefined && carry.byteLength > 0) {
    hand(carry);
    yield carry;
  }
}

/** The header line of a CSV file (with its line break), read from its start. */
async function csvHeader(env: Env, path: string): Promise<Uint8Array> {
  const src = await env.openInput(path);
  let got: Uint8Array = new Uint8Array(0);
  const it = (src.chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]?.() ?? (src.chunks as Iterable<Uint8Array>)[Symbol.iterator]();
  try {
    for (;;) {
      const r = await it.next();
      if (r.done) return got;
      got = concat(got, r.value);
      const cut = lastBoundary(got, true);
      if (cut > 0) {
        const nl = got.indexOf(LF);
        return got.slice(0, nl + 1);
      }
    }
  } finally {
    await it.return?.(undefined);
  }
}

/** The bytes of `src` from `offset` on (for an Env that cannot open a file at an offset). */
async function* skipBytes(src: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, offset: number): AsyncGenerator<Uint8Array> {
  let left = offset;
  for await (const chunk of src as AsyncIterable<Uint8Array>) {
    if (left >= chunk.byteLength) {
      left -= chunk.byteLength;
      continue;
    }
    yield left > 0 ? chunk.subarray(left) : chunk;
    left = 0;
  }
}

/**
 * Opens a file source for a checkpointed run at `start` (a record boundary): its chunks cut at
 * record boundaries and counted in the returned tracker. `lineBase` turns the reader's line
 * numbers into the file's: the lines before `start`, less the header line handed first.
 */
export async function openTracked(env: Env, path: string, start: FilePoint, csv: boolean): Promise<{ source: ByteSource; tracker: ChunkTracker; lineBase: number }> {
  const tracker = new ChunkTracker(start);
  if (start.offset === 0) {
    const src = await env.openInput(path);
    return { source: { chunks: alignedChunks(src.chunks, tracker, csv), ...(src.size !== undefined && { size: src.size }) }, tracker, lineBase: start.line };
  }
  const header = csv ? await csvHeader(env, path) : undefined;
  const src = env.openInputAt !== undefined ? await env.openInputAt(path, start.offset) : { ...(await env.openInput(path)), seek: true };
  const body = "seek" in src ? skipBytes(src.chunks, start.offset) : src.chunks;
  const chunks = alignedChunks(body, tracker, csv);
  // The header goes to the reader first, outside the tracker's count (it is not at `start`).
  async function* withHeader(): AsyncGenerator<Uint8Array> {
    if (header !== undefined && header.byteLength > 0) yield header;
    yield* chunks;
  }
  const lineBase = start.line - (header !== undefined && header.byteLength > 0 ? 1 : 0);
  return { source: { chunks: withHeader(), ...(src.size !== undefined && { size: src.size }) }, tracker, lineBase };
}
