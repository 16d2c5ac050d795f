// The states of a keyed aggregate over one int or string key whose state fields are all numbers
// starting at 0 (counts, sums, averages' sums and counts: plan.ts's `columns` store). Each key
// gets a slot, in order of its first appearance; each state field is a Float64Array indexed by
// slot. Int keys (`SlotColumns`, for the keys that are not small ints: those have typed arrays
// indexed by the key itself, in the generated code): an open-addressing table of Int32s finds a
// key's slot. String keys (`StringSlotColumns`): a Map from key to slot.
//
// Why not a Map of state objects: 1M keys would be 1M objects, which a checkpoint must walk and
// copy while the record loop waits, and a restore must create and insert one by one (§12 bars:
// < 500 ms each, and the loop waits ≤ 50 ms). As columns:
//   - a checkpoint freezes the pages of slots in use (`checkpoint`: no copy) and packs them a
//     page at a time while the run goes on; the loop copies a page only when it is about to
//     write to it before it was packed (`writable`: copy on write, one check per record);
//   - a restore fills the columns from the packed bytes and rebuilds the table from the keys.
// Keys never change once given a slot, so a checkpoint packs them from the live store too
// (string keys as their UTF-16 code units and lengths: exact for any string, lone surrogates too).

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

/**
 * The columns and their copy-on-write pages, whatever the key (see above); the subclasses find
 * and keep the keys.
 */
abstract class PagedColumns {
  /** One column per state field, indexed by slot; replaced by a larger copy when full. */
  cols: Float64Array[];
  /**
   * Pages of slots a checkpoint being written has not packed yet (1): a write to one copies it
   * first (`writable`).
   */
  frozen: Uint8Array;
  /** Slots in use. */
  size = 0;
  /** Keys so far (int keys: those with a slot and the small ones, `smallKey`). */
  distinct = 0;
  /** Slots the columns have room for. */
  #capacity = 1024;
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
    this.frozen = new Uint8Array(1);
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

  /** The keys of slots `from` … `to` − 1, packed by `packing` (a step of `checkpoint`). */
  protected abstract packKeys(packing: Packing, from: number, to: number): void;
  /** The keys' fields of the checkpoint, filled by `packKeys` as the steps run. */
  protected abstract savedKeys(): Record<string, unknown>;
  /** The keys from a checkpoint (decoded): how many slots they fill, or undefined if malformed. */
  protected abstract restoreKeys(saved: Record<string, unknown>): number | undefined;
  /** Room for `slots` keys. */
  protected abstract growKeys(slots: number): void;

  /**
   * The state as the checkpoint codec writes it (already encoded: see codec.ts `encode`), its
   * keys and columns packed by `packing`'s steps a page at a time — from the live columns, which
   * stay frozen until then, or from a page's copy. Slots added meanwhile are not in it.
   */
  checkpoint(packing: Packing): unknown {
    const n = this.size;
    const pages = Math.ceil(n / PAGE);
    const colChunks = this.cols.map((): unknown[] => []);
    this.frozen.fill(1, 0, pages);
    for (let p = 0; p < pages; p++) {
      packing.steps.push(() => {
        const from = p * PAGE;
        const to = Math.min(n, from + PAGE);
        this.packKeys(packing, from, to);
        const copy = this.#copies.get(p);
        this.cols.forEach((c, j) => colChunks[j]!.push(copy !== undefined ? packing.pack(copy[j]!, 0, to - from) : packing.pack(c, from, to)));
        if (copy !== undefined) {
          this.#copies.delete(p);
          this.#spare.push(copy);
        }
        this.frozen[p] = 0;
      });
    }
    return { $: "o", v: { distinct: this.distinct, ...this.savedKeys(), cols: colChunks.map((c) => column(c)) } };
  }

  /** Puts back what `checkpoint` wrote (decoded). */
  restore(saved: unknown): void {
    const s = saved as Record<string, unknown> | null;
    const cols = s?.cols;
    const n = s !== null && typeof s === "object" && typeof s.distinct === "number" ? this.restoreKeys(s) : undefined;
    if (n === undefined || !Array.isArray(cols) || cols.length !== this.cols.length || !cols.every((c) => c instanceof Float64Array && c.length === n)) {
      throw new CheckpointFormatError("malformed checkpoint state: slot columns");
    }
    this.size = n;
    this.distinct = s!.distinct as number;
    this.cols = cols as Float64Array[];
    this.#capacity = n;
    this.#copies.clear();
    this.frozen = new Uint8Array(Math.ceil(n / PAGE) + 1);
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

  /** A new slot, its fields 0 (the subclass records its key). */
  protected newSlot(): number {
    this.distinct++;
    const i = this.size++;
    if (i >= this.#capacity) this.grow(Math.max(1024, this.#capacity * 2));
    return i;
  }

  /** Room for `slots` slots: every column, the keys and the frozen pages grown (values kept). */
  private grow(slots: number): void {
    this.#capacity = slots;
    this.cols = this.cols.map((c) => larger(c, slots));
    this.growKeys(slots);
    const frozen = new Uint8Array(Math.ceil(slots / PAGE) + 1);
    frozen.set(this.frozen);
    this.frozen = frozen;
  }
}

/** A typed-array column packed in chunks, as the codec reads it (`$: "T"` with `c`). */
const column = (c: unknown[], t = "Float64Array") => ({ $: "T", t, c });

function larger(c: Float64Array, slots: number): Float64Array {
  const out = new Float64Array(slots);
  out.set(c);
  return out;
}

/** Int keys: the slotted ones (see above); small keys are the generated code's. */
export class SlotColumns extends PagedColumns {
  /** The key of each slot. */
  #keys: Float64Array = new Float64Array(1024);
  /** slot + 1 at each key's place (0: free); twice as many places as slots at least. */
  #table = new Int32Array(2048);
  #keyChunks: unknown[] = [];

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
    const i = this.newSlot();
    this.#keys[i] = k;
    if (this.size * 2 > this.#table.length) this.rehash(this.#table.length * 2);
    else this.place(k, i);
    return i;
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

  protected packKeys(packing: Packing, from: number, to: number): void {
    // Keys never change once given: the live array (or the one it grew from) holds them.
    this.#keyChunks.push(packing.pack(this.#keys, from, to));
  }

  protected savedKeys(): Record<string, unknown> {
    this.#keyChunks = [];
    return { keys: column(this.#keyChunks) };
  }

  protected restoreKeys(saved: Record<string, unknown>): number | undefined {
    const keys = saved.keys;
    if (!(keys instanceof Float64Array)) return undefined;
    this.#keys = keys;
    this.size = keys.length;
    let places = 2048;
    while (places < keys.length * 2) places *= 2;
    this.rehash(places);
    return keys.length;
  }

  protected growKeys(slots: number): void {
    this.#keys = larger(this.#keys, slots);
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

/** String keys: every key has a slot; a Map finds it. */
export class StringSlotColumns extends PagedColumns {
  /** The key of each slot. */
  #keys: string[] = [];
  readonly #slots = new Map<string, number>();
  #textChunks: unknown[] = [];
  #lengthChunks: unknown[] = [];

  /** The slot of key `k`; −1 when it has none yet. */
  slotOf(k: string): number {
    return this.#slots.get(k) ?? -1;
  }

  /** A slot for key `k`, which has none: its fields start at 0. */
  add(k: string): number {
    const i = this.newSlot();
    this.#keys.push(k);
    this.#slots.set(k, i);
    return i;
  }

  /** Every key in order of first appearance (its slot is its place). */
  keysInOrder(): readonly string[] {
    return this.#keys.length === this.size ? this.#keys : this.#keys.slice(0, this.size);
  }

  protected packKeys(packing: Packing, from: number, to: number): void {
    const keys = this.#keys;
    const lengths = new Float64Array(to - from);
    let chars = 0;
    for (let i = from; i < to; i++) chars += lengths[i - from] = keys[i]!.length;
    const text = new Uint16Array(chars);
    let at = 0;
    for (let i = from; i < to; i++) {
      const k = keys[i]!;
      for (let j = 0; j < k.length; j++) text[at++] = k.charCodeAt(j);
    }
    this.#textChunks.push(packing.pack(text));
    this.#lengthChunks.push(packing.pack(lengths));
  }

  protected savedKeys(): Record<string, unknown> {
    this.#textChunks = [];
    this.#lengthChunks = [];
    return { text: column(this.#textChunks, "Uint16Array"), lengths: column(this.#lengthChunks) };
  }

  protected restoreKeys(saved: Record<string, unknown>): number | undefined {
    const { text, lengths } = saved;
    if (!(text instanceof Uint16Array) || !(lengths instanceof Float64Array)) return undefined;
    // The code units as one string (a few thousand at a time), then each key a slice of it.
    const parts: string[] = [];
    for (let i = 0; i < text.length; i += 4096) parts.push(String.fromCharCode.apply(null, text.subarray(i, i + 4096) as unknown as number[]));
    const all = parts.join("");
    const keys = new Array<string>(lengths.length);
    this.#slots.clear();
    let at = 0;
    for (let i = 0; i < keys.length; i++) {
      const len = lengths[i]!;
      if (!(len >= 0 && at + len <= all.length)) return undefined;
      const k = all.slice(at, at + len);
      at += len;
      keys[i] = k;
      this.#slots.set(k, i);
    }
    if (at !== all.length || this.#slots.size !== keys.length) return undefined;
    this.#keys = keys;
    return keys.length;
  }

  protected growKeys(): void {
    // A JavaScript array grows by itself.
  }
}
