// State for the aggregates of LANGUAGE.md §5 whose state is not a plain number:
// `approx_count_distinct` (HyperLogLog), `percentile` (exact, nearest rank) and
// `count_distinct` (exact). Callers skip null values before `add` (SQL semantics).

import { FlowRuntimeError } from "./errors.js";

// ---------------------------------------------------------------------------------------------
// Hashing: a fixed, deterministic 64-bit hash built from two murmur3-style 32-bit hashes with
// different seeds, over the value's canonical form:
// - a number that is an integer (|n| < 2^53): its 64-bit two's complement words (so the int 3
//   and the float 3.0, the same JavaScript number, hash alike; -0 hashes as 0);
// - any other number: the IEEE-754 bits;
// - a string: its UTF-16 code units;
// - a boolean: 0/1 with a tag; a record or array: its JSON text.

const SEED1 = 0x2f0b3c6d;
const SEED2 = 0x61c88647;
const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** The two 32-bit halves of the last hash (module state: no allocation per hash). */
let hashA = 0;
let hashB = 0;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

function mixK(k: number): number {
  k = Math.imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, C2);
}

function mixH(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Hash of two 32-bit words (murmur3_x86_32 of 8 bytes) with both seeds → hashA, hashB. */
function hashWords(lo: number, hi: number): void {
  hashA = fmix32(mixH(mixH(SEED1, lo), hi) ^ 8);
  hashB = fmix32(mixH(mixH(SEED2, lo), hi) ^ 8);
}

function hashNumber(n: number): void {
  if (Number.isSafeInteger(n)) {
    hashWords(n >>> 0, Math.floor(n / 4294967296) | 0);
  } else {
    f64[0] = n;
    hashWords(u32[0]! ^ 0x7ff00001, u32[1]!);
  }
}

function hashString(s: string): void {
  let h1 = SEED1;
  let h2 = SEED2;
  const len = s.length;
  const even = len & ~1;
  for (let i = 0; i < even; i += 2) {
    const k = mixK(s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
    h1 ^= k;
    h1 = (h1 << 13) | (h1 >>> 19);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 ^= k;
    h2 = (h2 << 13) | (h2 >>> 19);
    h2 = (Math.imul(h2, 5) + 0xe6546b64) | 0;
  }
  if (even !== len) {
    const k = mixK(s.charCodeAt(even));
    h1 ^= k;
    h2 ^= k;
  }
  hashA = fmix32(h1 ^ (len * 2));
  hashB = fmix32(h2 ^ (len * 2) ^ 0x5bd1e995);
}

function hashValue(v: unknown): void {
  switch (typeof v) {
    case "number":
      hashNumber(v);
      break;
    case "string":
      hashString(v);
      break;
    case "boolean":
      hashWords(v ? 1 : 0, 0x9e3779b9);
      break;
    default:
      hashString(JSON.stringify(v) ?? String(v));
  }
}

/** The fixed 64-bit hash of a value as [high 32 bits, low 32 bits] (for tests and tools). */
export function hash64(v: unknown): [number, number] {
  hashValue(v);
  return [hashA, hashB];
}

// ---------------------------------------------------------------------------------------------
// HyperLogLog

/** log2 of the number of registers. */
const P = 14;
const M = 1 << P;
/** Hash bits left for the rank: 64 − P; register values are 0 … Q + 1. */
const Q = 64 - P;
const INDEX_SHIFT = 32 - P;
const REST_MASK = (1 << INDEX_SHIFT) - 1;
/** Up to this many non-zero registers are kept in a Map (small groups stay small). */
const SPARSE_LIMIT = 256;
const ALPHA_INF = 0.5 / Math.LN2;

/**
 * HyperLogLog with 2^14 registers (relative standard error ≈ 0.8%) over a fixed 64-bit hash:
 * deterministic (the same values in any order give the same count) and mergeable. Registers
 * start sparse (a Map) and become a 16 KiB array past 256 non-zero ones. The estimate is Ertl's
 * improved raw estimator ("New cardinality estimation algorithms for HyperLogLog sketches",
 * 2017), unbiased from 0 to far beyond 10M without empirical correction tables; it is
 * computed from a register histogram kept up to date by `add`, so `count()` is cheap
 * (O(Q) = 51 steps, cached until a register changes) even when called after every update.
 */
export class HyperLogLog {
  /** Dense registers, or null while sparse. */
  private dense: Uint8Array | null = null;
  /** Sparse registers: index → value (> 0), while dense is null. */
  private sparse: Map<number, number> | null = new Map();
  /** hist[k] = number of registers with value k. */
  private readonly hist = new Int32Array(Q + 2);
  private cached = 0;
  private dirty = false;

  constructor() {
    this.hist[0] = M;
  }

  /** Adds a value (number, string, boolean, or a record/array by its JSON text). */
  add(v: unknown): void {
    hashValue(v);
    this.addHash(hashA, hashB);
  }

  /** Adds a number (monomorphic entry for generated code). */
  addNumber(n: number): void {
    hashNumber(n);
    this.addHash(hashA, hashB);
  }

  /** Adds a string (monomorphic entry for generated code). */
  addString(s: string): void {
    hashString(s);
    this.addHash(hashA, hashB);
  }

  private addHash(a: number, b: number): void {
    const idx = a >>> INDEX_SHIFT;
    const rest = a & REST_MASK;
    // Rank = 1 + leading zeros of the Q-bit string (rest, then b); Q + 1 when all are zero.
    const rank = rest !== 0 ? Math.clz32(rest) - (P - 1) : b !== 0 ? INDEX_SHIFT + 1 + Math.clz32(b) : Q + 1;
    this.setMax(idx, rank);
  }

  private setMax(idx: number, rank: number): void {
    const dense = this.dense;
    let old: number;
    if (dense !== null) {
      old = dense[idx]!;
      if (rank <= old) return;
      dense[idx] = rank;
    } else {
      const sparse = this.sparse!;
      old = sparse.get(idx) ?? 0;
      if (rank <= old) return;
      sparse.set(idx, rank);
      if (sparse.size > SPARSE_LIMIT) this.densify();
    }
    this.hist[old]--;
    this.hist[rank]++;
    this.dirty = true;
  }

  private densify(): Uint8Array {
    let dense = this.dense;
    if (dense === null) {
      dense = new Uint8Array(M);
      for (const [i, r] of this.sparse!) dense[i] = r;
      this.dense = dense;
      this.sparse = null;
    }
    return dense;
  }

  /** The estimated number of distinct values added (0 when none). */
  count(): number {
    if (this.dirty) {
      this.cached = estimate(this.hist);
      this.dirty = false;
    }
    return this.cached;
  }

  /** Adds every value of `other` (register-wise maximum); `other` is unchanged. */
  merge(other: HyperLogLog): void {
    if (other.dense === null) {
      for (const [i, r] of other.sparse!) this.setMax(i, r);
      return;
    }
    const src = other.dense;
    const dst = this.densify();
    const hist = this.hist;
    for (let i = 0; i < M; i++) {
      const r = src[i]!;
      const old = dst[i]!;
      if (r > old) {
        dst[i] = r;
        hist[old]--;
        hist[r]++;
        this.dirty = true;
      }
    }
  }
}

/** Ertl's improved raw estimator from the register histogram c[0 … Q+1]. */
function estimate(c: Int32Array): number {
  if (c[0] === M) return 0;
  let z = M * tau(1 - c[Q + 1]! / M);
  for (let k = Q; k >= 1; k--) z = 0.5 * (z + c[k]!);
  z += M * sigma(c[0]! / M);
  return Math.round((ALPHA_INF * M * M) / z);
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const prev = z;
    z += x * y;
    y += y;
    if (z === prev) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const prev = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
    if (z === prev) return z / 3;
  }
}

// ---------------------------------------------------------------------------------------------
// Percentile (exact, nearest rank)

/**
 * Exact percentile by nearest rank (LANGUAGE.md §5): `value(p)` is the smallest collected value
 * v with at least a fraction p of the values ≤ v, i.e. the k-th smallest with
 * k = max(1, ⌈p·n⌉); p = 0 gives the minimum, p = 1 the maximum. The fraction test is done as
 * k/n ≥ p in floating point, so p = 0.7 of 10 values is the 7th (not the 8th, as a naive
 * ⌈0.7·10⌉ = ⌈7.000000000000001⌉ would give). Values are numbers (int, float, time, duration).
 *
 * Values are sorted lazily when queried; a few values added since the last query are inserted
 * by binary search instead of sorting everything again, so querying after every update (an
 * unwindowed agg) stays O(n) per update.
 */
export class Percentile {
  private values = new Float64Array(8);
  private n = 0;
  /** values[0 … sortedUpTo) is sorted. */
  private sortedUpTo = 0;

  /** The number of values collected. */
  get size(): number {
    return this.n;
  }

  add(v: number): void {
    let values = this.values;
    const n = this.n;
    if (n === values.length) {
      const grown = new Float64Array(n * 2);
      grown.set(values);
      this.values = values = grown;
    }
    values[n] = v;
    this.n = n + 1;
    // Stay "sorted" for free while values arrive in order.
    if (this.sortedUpTo === n && (n === 0 || values[n - 1]! <= v)) this.sortedUpTo = n + 1;
  }

  /** Adds every value of `other`; `other` is unchanged. */
  merge(other: Percentile): void {
    const src = other.values;
    for (let i = 0; i < other.n; i++) this.add(src[i]!);
  }

  /** The nearest-rank percentile for p in [0, 1]; null when no value was added. */
  value(p: number): number | null {
    if (!(p >= 0 && p <= 1)) {
      throw new FlowRuntimeError("percentile", `p must be between 0 and 1, got ${p}`);
    }
    const n = this.n;
    if (n === 0) return null;
    this.sort();
    let k = Math.ceil(p * n);
    while (k > 1 && (k - 1) / n >= p) k--;
    while (k < n && k / n < p) k++;
    if (k < 1) k = 1;
    return this.values[k - 1]!;
  }

  private sort(): void {
    const n = this.n;
    let s = this.sortedUpTo;
    if (s === n) return;
    const values = this.values;
    if (n - s > 16 || n - s > s) {
      values.subarray(0, n).sort();
    } else {
      for (; s < n; s++) {
        const v = values[s]!;
        let lo = 0;
        let hi = s;
        if (v !== v) lo = s; // NaN sorts last, as Float64Array.prototype.sort puts it
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (values[mid]! <= v) lo = mid + 1;
          else hi = mid;
        }
        if (lo < s) {
          values.copyWithin(lo + 1, lo, s);
          values[lo] = v;
        }
      }
    }
    this.sortedUpTo = n;
  }
}

// ---------------------------------------------------------------------------------------------
// Exact distinct count

/**
 * Exact `count_distinct`: a Set of the values (numbers and strings as themselves, so 3 and 3.0
 * are one value; records and arrays by their JSON text).
 */
export class CountDistinct {
  private readonly seen = new Set<unknown>();

  add(v: unknown): void {
    this.seen.add(typeof v === "object" && v !== null ? JSON.stringify(v) : v);
  }

  count(): number {
    return this.seen.size;
  }

  /** Adds every value of `other`; `other` is unchanged. */
  merge(other: CountDistinct): void {
    for (const v of other.seen) this.seen.add(v);
  }
}
