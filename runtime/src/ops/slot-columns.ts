// The states of a keyed aggregate over an int key whose state fields are all numbers starting at
// 0 (counts, sums, averages' sums and counts: plan.ts's `columns` store), for the keys that are
// not small ints (those have typed arrays indexed by the key itself, in the generated code).
// Each key gets a slot, in order of its first appearance; each state field is a Float64Array
// indexed by slot; an open-addressing table of Int32s finds a key's slot.
//
// Why not a Map of state objects: 1M keys would be 1M objects, which a checkpoint must walk and
// copy while the record loop waits, and a restore must create and insert one by one (§12 bars:
// < 500 ms each, and the loop waits ≤ 50 ms). As columns:
//   - a checkpoint freezes the pages of slots in use (`checkpoint`: no copy) and packs them a
//     page at a time while the run goes on; the loop copies a page only when it is about to
//     write to it before it was packed (`writable`: copy on write, one check per record);
//   - a restore fills the columns from the packed bytes and rebuilds the table from the keys.

import type { Packing } from "../checkpoint/codec.js";
import { CheckpointFormatError } from "../checkpoint/codec.js";

/** Slots per page: the unit a checkpoint packs in one step and the loop copies on write (512 KiB a column). */
const PAGE_BITS = 16;
const PAGE = 1 << PAGE_BITS;

/** A key's place in the table: its bits mixed (ints up to 2^53, negative ones too). */
function hash(k: number): number {
  const h = Math.imul((k | 0) ^ Math.imul((k / 4294967296) | 0, 0x9e3779b1), 0x85ebca6b);
  return h ^ (h >>> 15);
}

export class SlotColumns {
  /** One column per state field, indexed by slot; replaced by a larger copy when full. */
  cols: Float64Array[];
  /**
   * Pages of slots a checkpoint being written has not packed yet (1): a write to one copies it
   * first (`writable`).
   */
  frozen: Uint8Array;
  /** Slots in use. */
  size = 0;
  /** Keys so far: those with a slot and the small ones (`smallKey`). */
  distinct = 0;
  /** The key of each slot. */
  #keys: Float64Array;
  /** slot + 1 at each key's place (0: free); twice as many places as slots at least. */
  #table: Int32Array;
  /** Pages copied before the loop wrote to them, while a checkpoint packs (page → a copy per column). */
  readonly #copies = new Map<number, Float64Array[]>();
  /**
   * Buffers for such copies, kept between checkpoints. Memory a process touches for the first
   * time costs far more than a copy into memory it touched before (a page fault a 4 KiB page:
   * ~3 ms a MiB on the VMs measured, against ~0.1): `prepareCheckpoint` fills this ahead of a
   * cut, a page a step, so copying on write is a plain memory copy.
   */
  readonly #spare: Float64Array[][] = [];

  constructor(fields: number) {
    this.cols = Array.from({ length: fields }, () => new Float64Array(1024));
    this.#keys = new Float64Array(1024);
    this.#table = new Int32Array(2048);
    this.frozen = new Uint8Array(1);
  }

  /** The slot of key `k`; −1 when it has none yet. */
  slotOf(k: number): number {
    const t = this.#table;
    const keys = this.#keys;
    const mask = t.length - 1;
    for (let h = hash(k) & mask; ; h = (h + 1) & mask) {
      const s = t[h]!;
      if (s === 0) return -1;
      if (keys[s - 1] === k) return s - 1;
    }
  }

  /**
   * A small key (the generated code keeps its state by the key itself) came for the first time:
   * 1 + its place in order of first appearance, which the generated code keeps (`keysInOrder`).
   */
  smallKey(): number {
    return ++this.distinct;
  }

  /** A slot for key `k`, which has none: its fields start at 0. */
  add(k: number): number {
    this.distinct++;
    const i = this.size++;
    if (i >= this.#keys.length) this.grow(Math.max(1024, this.#keys.length * 2));
    this.#keys[i] = k;
    if (this.size * 2 > this.#table.length) this.rehash(this.#table.length * 2);
    else this.place(k, i);
    return i;
  }

  /** The columns, to write to slot `i` (a page a checkpoint has not packed yet is copied first). */
  writable(i: number): Float64Array[] {
    if (this.frozen[i >>> PAGE_BITS] !== 0) this.thaw(i >>> PAGE_BITS);
    return this.cols;
  }

  /** `flowc_state_entries` (run/state-size.ts): one per key. */
  stateEntries(): number {
    return this.distinct;
  }

  /**
   * Every key, small ones (`first[k]`: 1 + its place in order of first appearance, 0 if it never
   * came) and slotted ones (slots are in that order), in order of first appearance.
   */
  keysInOrder(first: Float64Array): number[] {
    const small: number[] = [];
    for (let k = 0; k < first.length; k++) if (first[k] !== 0) small.push(k);
    small.sort((a, b) => first[a]! - first[b]!);
    const out = new Array<number>(this.distinct);
    let s = 0;
    let slot = 0;
    for (let at = 0; at < out.length; at++) {
      out[at] = s < small.length && first[small[s]!] === at + 1 ? small[s++]! : this.#keys[slot++]!;
    }
    return out;
  }

  /**
   * The state as the checkpoint codec writes it (already encoded: see codec.ts `encode`), its
   * columns packed by `packing`'s steps a page at a time — from the live columns, which stay
   * frozen until then, or from a page's copy. Slots added meanwhile are not in it.
   */
  checkpoint(packing: Packing): unknown {
    const n = this.size;
    const pages = Math.ceil(n / PAGE);
    const keyChunks: unknown[] = [];
    const colChunks = this.cols.map((): unknown[] => []);
    this.frozen.fill(1, 0, pages);
    for (let p = 0; p < pages; p++) {
      packing.steps.push(() => {
        const from = p * PAGE;
        const to = Math.min(n, from + PAGE);
        // Keys never change once given: the live array (or the one it grew from) holds them.
        keyChunks.push(packing.pack(this.#keys, from, to));
        const copy = this.#copies.get(p);
        this.cols.forEach((c, j) => colChunks[j]!.push(copy !== undefined ? packing.pack(copy[j]!, 0, to - from) : packing.pack(c, from, to)));
        if (copy !== undefined) {
          this.#copies.delete(p);
          this.#spare.push(copy);
        }
        this.frozen[p] = 0;
      });
    }
    const column = (c: unknown[]) => ({ $: "T", t: "Float64Array", c });
    return { $: "o", v: { distinct: this.distinct, keys: column(keyChunks), cols: colChunks.map(column) } };
  }

  /** Puts back what `checkpoint` wrote (decoded). */
  restore(saved: unknown): void {
    const s = saved as { distinct?: unknown; keys?: unknown; cols?: unknown } | null;
    const keys = s?.keys;
    const cols = s?.cols;
    if (typeof s?.distinct !== "number" || !(keys instanceof Float64Array) || !Array.isArray(cols) || cols.length !== this.cols.length || !cols.every((c) => c instanceof Float64Array && c.length === keys.length)) {
      throw new CheckpointFormatError("malformed checkpoint state: slot columns");
    }
    const n = keys.length;
    this.size = n;
    this.distinct = s.distinct as number;
    this.#keys = keys;
    this.cols = cols as Float64Array[];
    this.#copies.clear();
    this.frozen = new Uint8Array(Math.ceil(n / PAGE) + 1);
    let places = 2048;
    while (places < n * 2) places *= 2;
    this.rehash(places);
  }

  /** Copies page `p` of every column before the loop writes to it (a checkpoint packs the copy). */
  private thaw(p: number): void {
    const from = p * PAGE;
    const copy = this.#spare.pop() ?? this.cols.map(() => new Float64Array(PAGE));
    this.cols.forEach((c, j) => copy[j]!.set(c.subarray(from, Math.min(c.length, from + PAGE))));
    this.#copies.set(p, copy);
    this.frozen[p] = 0;
  }

  /**
   * Steps before a checkpoint's cut: buffers for a copy of every page in use, allocated and
   * touched one page a step (see `#spare`).
   */
  prepareCheckpoint(): (() => void)[] {
    const steps: (() => void)[] = [];
    for (let p = this.#spare.length; p < Math.ceil(this.size / PAGE); p++) {
      steps.push(() => this.#spare.push(this.cols.map(() => new Float64Array(PAGE).fill(0))));
    }
    return steps;
  }

  /** Room for `slots` slots: every column, the keys and the frozen pages grown (values kept). */
  private grow(slots: number): void {
    const larger = (c: Float64Array) => {
      const out = new Float64Array(slots);
      out.set(c);
      return out;
    };
    this.cols = this.cols.map(larger);
    this.#keys = larger(this.#keys);
    const frozen = new Uint8Array(Math.ceil(slots / PAGE) + 1);
    frozen.set(this.frozen);
    this.frozen = frozen;
  }

  /** A table of `places` places with every slot's key in it. */
  private rehash(places: number): void {
    this.#table = new Int32Array(places);
    for (let i = 0; i < this.size; i++) this.place(this.#keys[i]!, i);
  }

  private place(k: number, i: number): void {
    const t = this.#table;
    const mask = t.length - 1;
    let h = hash(k) & mask;
    while (t[h] !== 0) h = (h + 1) & mask;
    t[h] = i + 1;
  }
}
