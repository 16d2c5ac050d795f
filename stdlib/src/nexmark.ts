// The NEXMark generator behind the `nexmark(kind, events: N, rate?, seed?, start?)` source
// (LANGUAGE.md §4), following shared/NEXMARK.md (the model of the Flink/Beam generators).
//
// Event n = 0, 1, 2, …: rem = n mod 50 → 0 person, 1–3 auction, 4–49 bid; epoch = n div 50.
// Every event draws its randomness from its own PRNG stream seeded from (seed, n), so any event
// can be generated alone, a `bid` source never generates persons or auctions, and the content
// is a pure function of (seed, n). Times are epoch milliseconds.

import type { RecordSchema } from "../../runtime/src/contract.js";

export type NexmarkKind = "person" | "auction" | "bid";

export interface NexmarkSpec {
  eventKind: NexmarkKind;
  /** Number of NEXMark events walked through, of all kinds (event numbers 0 … events − 1). */
  events: number;
  /** Events per second (spaces event time; the generator never sleeps). */
  rate: number;
  seed: number;
  /** Time of event 0, epoch ms. */
  start: number;
}

export interface NexmarkPerson {
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  dateTime: number;
  extra: string;
}

export interface NexmarkAuction {
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  expires: number;
  seller: number;
  category: number;
  extra: string;
}

export interface NexmarkBid {
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

export type NexmarkRecord = NexmarkPerson | NexmarkAuction | NexmarkBid;

/** Defaults of the `nexmark(...)` source (LANGUAGE.md §4); the seed default is our choice. */
export const NEXMARK_DEFAULTS = {
  rate: 10_000,
  seed: 0,
  /** @2015-07-15T00:00:00Z */
  start: Date.UTC(2015, 6, 15),
} as const;

/** Flow declarations of the three record types (field names of the Flink DDL). */
export const NEXMARK_TYPES = `type Person = { id: int, name: string, emailAddress: string, creditCard: string, city: string, state: string, dateTime: time, extra: string }
type Auction = { id: int, itemName: string, description: string, initialBid: int, reserve: int, dateTime: time, expires: time, seller: int, category: int, extra: string }
type Bid = { auction: int, bidder: int, price: int, channel: string, url: string, dateTime: time, extra: string }
`;

const INT = { kind: "int" } as const;
const STRING = { kind: "string" } as const;
const TIME = { kind: "time" } as const;

/** The same types as runtime schemas, by event kind. */
export const NEXMARK_SCHEMAS: { readonly [K in NexmarkKind]: RecordSchema } = {
  person: {
    kind: "record",
    fields: [
      { name: "id", type: INT },
      { name: "name", type: STRING },
      { name: "emailAddress", type: STRING },
      { name: "creditCard", type: STRING },
      { name: "city", type: STRING },
      { name: "state", type: STRING },
      { name: "dateTime", type: TIME },
      { name: "extra", type: STRING },
    ],
  },
  auction: {
    kind: "record",
    fields: [
      { name: "id", type: INT },
      { name: "itemName", type: STRING },
      { name: "description", type: STRING },
      { name: "initialBid", type: INT },
      { name: "reserve", type: INT },
      { name: "dateTime", type: TIME },
      { name: "expires", type: TIME },
      { name: "seller", type: INT },
      { name: "category", type: INT },
      { name: "extra", type: STRING },
    ],
  },
  bid: {
    kind: "record",
    fields: [
      { name: "auction", type: INT },
      { name: "bidder", type: INT },
      { name: "price", type: INT },
      { name: "channel", type: STRING },
      { name: "url", type: STRING },
      { name: "dateTime", type: TIME },
      { name: "extra", type: STRING },
    ],
  },
};

// ---------------------------------------------------------------------------------------------
// Model constants (shared/NEXMARK.md)

const TOTAL_PROPORTION = 50;
const FIRST_PERSON_ID = 1000;
const FIRST_AUCTION_ID = 1000;
const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
const HOT_RATIO = 100; // hot seller / bidder / auction: the first of the last 100
const NUM_ACTIVE_PEOPLE = 1000;
const PERSON_ID_LEAD = 10;
const NUM_IN_FLIGHT_AUCTIONS = 100;
const AUCTION_ID_LEAD = 10;
/** Events until numInFlightAuctions more auctions exist: 100 · 50 / 3. */
const EVENTS_FOR_AUCTIONS = Math.floor((NUM_IN_FLIGHT_AUCTIONS * TOTAL_PROPORTION) / 3);
const CHANNELS_NUMBER = 10_000;

const FIRST_NAMES = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
const LAST_NAMES = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
const US_CITIES = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
const US_STATES = ["AZ", "CA", "ID", "OR", "WA", "WY"];
const HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];

/** "First Last" for every pair (index first · 9 + last). */
const FULL_NAMES: string[] = [];
for (const f of FIRST_NAMES) for (const l of LAST_NAMES) FULL_NAMES.push(f + " " + l);

// ---------------------------------------------------------------------------------------------
// PRNG: splitmix32 (a Weyl sequence through murmur3's finalizer). The state is module-level so
// drawing allocates nothing; each event sets it from (seed, n) before drawing, and generation is
// synchronous, so several generators may be used in turn.

let rng = 0;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The next 32 random bits, as an unsigned number. */
function next32(): number {
  rng = (rng + 0x9e3779b9) | 0;
  let z = rng;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const TWO_POW_32 = 4294967296;
const INV_2_32 = 1 / TWO_POW_32;

/** Uniform integer in [0, k) for 1 ≤ k (exactly uniform up to rounding for k ≤ 2^21). */
function uniform(k: number): number {
  if (k <= 0x200000) return Math.floor(next32() * k * INV_2_32);
  return Math.floor(nextDouble() * k);
}

/** Uniform double in [0, 1) with 53 random bits. */
function nextDouble(): number {
  return ((next32() >>> 5) * 67108864 + (next32() >>> 6)) / 9007199254740992;
}

/** Per-stream keys derived from a seed (any number: its integer part's 64-bit words). */
function seedKey(seed: number, domain: number): number {
  const s = Math.trunc(seed);
  const lo = s >>> 0;
  const hi = Math.floor(s / TWO_POW_32) | 0;
  return fmix32(fmix32(lo ^ domain) ^ Math.imul(hi, 0x27d4eb2f) ^ 0x165667b1);
}

/** Starts the stream of item n (a bijection of n's low word for a fixed key and high word). */
function seedStream(key: number, keyHi: number, n: number): void {
  const lo = n >>> 0;
  const hi = n < TWO_POW_32 ? 0 : Math.floor(n / TWO_POW_32);
  rng = fmix32(Math.imul(lo ^ key, 0x9e3779b1) ^ (hi === 0 ? keyHi : fmix32(hi ^ keyHi)));
}

// ---------------------------------------------------------------------------------------------
// Text: slices of fixed random buffers instead of per-character concatenation. V8 keeps a
// substring of 13+ characters as a view into the buffer (no copy).

const BUFFER_SIZE = 1 << 18;
/** Random lowercase letters (for extra). */
let LETTERS = "";
/** Random lowercase letters and spaces (space with probability 1/13), for str(max). */
let WORDS = "";
/** "0000" … "9999" (credit cards). */
const PAD4: string[] = [];

function initBuffers(): void {
  if (LETTERS !== "") return;
  const saved = rng;
  rng = 0x6a09e667; // fixed: the buffers are the same for every seed
  const letters: string[] = [];
  const words: string[] = [];
  const chunk: number[] = [];
  const wchunk: number[] = [];
  const size = BUFFER_SIZE + 1024;
  for (let i = 0; i < size; i++) {
    chunk.push(97 + uniform(26));
    wchunk.push(uniform(13) === 0 ? 32 : 97 + uniform(26));
    if (chunk.length === 4096 || i === size - 1) {
      letters.push(String.fromCharCode(...chunk));
      words.push(String.fromCharCode(...wchunk));
      chunk.length = 0;
      wchunk.length = 0;
    }
  }
  LETTERS = letters.join("");
  WORDS = words.join("");
  for (let i = 0; i < 10000; i++) PAD4.push(String(i).padStart(4, "0"));
  rng = saved;
}

/** str(max): length 3 + uniform[0, max − 3), a space with probability 1/13, trimmed. */
function nextString(max: number): string {
  const len = 3 + uniform(max - 3);
  const off = uniform(BUFFER_SIZE);
  return WORDS.substring(off, off + len).trim();
}

/** A string of `len` (≤ 1024) random lowercase letters. */
function exactString(len: number): string {
  const off = uniform(BUFFER_SIZE);
  return LETTERS.substring(off, off + len);
}

/** extra(cur, avg): "" if cur > avg; else t = avg − cur, d = round(0.2·t), t − d + uniform[0, 2d). */
function nextExtra(cur: number, avg: number): string {
  if (cur > avg) return "";
  const t = avg - cur;
  const d = Math.round(t * 0.2);
  return exactString(t - d + (d === 0 ? 0 : uniform(2 * d)));
}

/** price(): round(10^(6u) · 100), u uniform [0, 1): log-uniform over 100 … 1e8. */
function nextPrice(): number {
  return Math.round(Math.pow(10, nextDouble() * 6) * 100);
}

/** A url path segment: nextString(5, '_') of the reference: 3–4 chars, '_' with p 1/13. */
function urlSegment(): string {
  const len = 3 + uniform(2);
  let s = "";
  for (let i = 0; i < len; i++) s += uniform(13) === 0 ? "_" : String.fromCharCode(97 + uniform(26));
  return s;
}

function baseUrl(): string {
  return "https://www.nexmark.com/" + urlSegment() + "/" + urlSegment() + "/" + urlSegment() + "/item.htm?query=1";
}

/** Java's Math.abs(Integer.reverse(i)) (Math.abs(MIN_VALUE) stays negative, as in Java). */
function reversedChannelId(i: number): number {
  let v = i >>> 0;
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  v = (v >>> 16) | (v << 16);
  v |= 0;
  return v === -2147483648 ? v : Math.abs(v);
}

// ---------------------------------------------------------------------------------------------
// The generator

const DOMAIN_EVENTS = 0x3c6ef372;
const DOMAIN_CHANNELS = 0xa54ff53a;
const DOMAIN_HOT = 0x510e527f;

/**
 * Generates any event of a NEXMark stream alone: `person(n)`, `auction(n)`, `bid(n)` for an
 * event number n of that kind (`kindOf(n)`), `time(n)` its time.
 */
export class NexmarkGenerator {
  readonly rate: number;
  readonly seed: number;
  readonly start: number;
  private readonly key: number;
  private readonly keyHi: number;
  private readonly channelKey: number;
  private readonly hotUrls: string[] = [];
  private readonly channelNames: (string | undefined)[] = new Array(CHANNELS_NUMBER);
  private readonly channelUrls: (string | undefined)[] = new Array(CHANNELS_NUMBER);

  constructor(spec: { rate: number; seed: number; start: number }) {
    if (!(spec.rate > 0 && spec.rate < Infinity)) {
      throw new RangeError(`nexmark: rate must be a positive number of events per second, got ${spec.rate}`);
    }
    if (!Number.isFinite(spec.start) || !Number.isFinite(spec.seed)) {
      throw new RangeError(`nexmark: start and seed must be finite numbers`);
    }
    initBuffers();
    this.rate = spec.rate;
    this.seed = spec.seed;
    this.start = spec.start;
    this.key = seedKey(spec.seed, DOMAIN_EVENTS);
    this.keyHi = fmix32(this.key ^ 0x1f83d9ab);
    this.channelKey = seedKey(spec.seed, DOMAIN_CHANNELS);
    const saved = rng;
    const hotKey = seedKey(spec.seed, DOMAIN_HOT);
    for (let i = 0; i < HOT_CHANNELS.length; i++) {
      seedStream(hotKey, 0, i);
      this.hotUrls.push(baseUrl());
    }
    rng = saved;
  }

  /** The kind of event n. */
  kindOf(n: number): NexmarkKind {
    const rem = n % TOTAL_PROPORTION;
    return rem === 0 ? "person" : rem <= 3 ? "auction" : "bid";
  }

  /** Event time of event n: start + floor(n · 1e6 / rate / 1000) ms. */
  time(n: number): number {
    return this.start + Math.floor((n * 1000) / this.rate);
  }

  /** Base-0 id of a random active person ("numPeople − active + uniform[0, active + 10)"). */
  private randomPerson(lastPerson: number): number {
    const numPeople = lastPerson + 1;
    const active = numPeople < NUM_ACTIVE_PEOPLE ? numPeople : NUM_ACTIVE_PEOPLE;
    return numPeople - active + uniform(active + PERSON_ID_LEAD);
  }

  /** The person of event n (n mod 50 = 0). */
  person(n: number): NexmarkPerson {
    seedStream(this.key, this.keyHi, n);
    const epoch = Math.floor(n / TOTAL_PROPORTION);
    const name = FULL_NAMES[uniform(FIRST_NAMES.length) * LAST_NAMES.length + uniform(LAST_NAMES.length)]!;
    const emailAddress = nextString(7) + "@" + nextString(5) + ".com";
    const creditCard =
      PAD4[uniform(10000)]! + " " + PAD4[uniform(10000)]! + " " + PAD4[uniform(10000)]! + " " + PAD4[uniform(10000)]!;
    const city = US_CITIES[uniform(US_CITIES.length)]!;
    const state = US_STATES[uniform(US_STATES.length)]!;
    const cur = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    return {
      id: FIRST_PERSON_ID + epoch,
      name,
      emailAddress,
      creditCard,
      city,
      state,
      dateTime: this.time(n),
      extra: nextExtra(cur, 200),
    };
  }

  /** The auction of event n (n mod 50 in 1…3). */
  auction(n: number): NexmarkAuction {
    seedStream(this.key, this.keyHi, n);
    const epoch = Math.floor(n / TOTAL_PROPORTION);
    const rem = n - epoch * TOTAL_PROPORTION;
    const lastPerson = epoch;
    const seller =
      uniform(4) > 0 ? Math.floor(lastPerson / HOT_RATIO) * HOT_RATIO : this.randomPerson(lastPerson);
    const category = FIRST_CATEGORY_ID + uniform(NUM_CATEGORIES);
    const initialBid = nextPrice();
    const dateTime = this.time(n);
    const horizon = this.time(n + EVENTS_FOR_AUCTIONS) - dateTime;
    const expires = dateTime + 1 + uniform(Math.max(horizon * 2, 1));
    const itemName = nextString(20);
    const description = nextString(100);
    const reserve = initialBid + nextPrice();
    const cur = 8 + itemName.length + description.length + 40;
    return {
      id: FIRST_AUCTION_ID + 3 * epoch + (rem - 1),
      itemName,
      description,
      initialBid,
      reserve,
      dateTime,
      expires,
      seller: FIRST_PERSON_ID + seller,
      category,
      extra: nextExtra(cur, 500),
    };
  }

  /** The bid of event n (n mod 50 in 4…49). */
  bid(n: number): NexmarkBid {
    seedStream(this.key, this.keyHi, n);
    const epoch = Math.floor(n / TOTAL_PROPORTION);
    const lastAuction = 3 * epoch + 2;
    let auction: number;
    if (uniform(2) > 0) {
      auction = Math.floor(lastAuction / HOT_RATIO) * HOT_RATIO;
    } else {
      const min = lastAuction > NUM_IN_FLIGHT_AUCTIONS ? lastAuction - NUM_IN_FLIGHT_AUCTIONS : 0;
      auction = min + uniform(lastAuction - min + 1 + AUCTION_ID_LEAD);
    }
    const bidder = uniform(4) > 0 ? Math.floor(epoch / HOT_RATIO) * HOT_RATIO + 1 : this.randomPerson(epoch);
    const price = nextPrice();
    let channel: string;
    let url: string;
    if (uniform(2) > 0) {
      const i = uniform(4);
      channel = HOT_CHANNELS[i]!;
      url = this.hotUrls[i]!;
    } else {
      const i = uniform(CHANNELS_NUMBER);
      const name = this.channelNames[i];
      if (name === undefined) {
        channel = this.newChannel(i);
        url = this.channelUrls[i]!;
      } else {
        channel = name;
        url = this.channelUrls[i]!;
      }
    }
    // extra(32, 100): t = 68, d = 14 → 54 + uniform[0, 28).
    const extra = exactString(54 + uniform(28));
    return {
      auction: FIRST_AUCTION_ID + auction,
      bidder: FIRST_PERSON_ID + bidder,
      price,
      channel,
      url,
      dateTime: this.start + Math.floor((n * 1000) / this.rate),
      extra,
    };
  }

  /** Creates channel i's name and its fixed url (a pure function of (seed, i)). */
  private newChannel(i: number): string {
    const saved = rng;
    seedStream(this.channelKey, 0, i);
    let url = baseUrl();
    if (uniform(10) > 0) url += "&channel_id=" + reversedChannelId(i);
    rng = saved;
    const name = "channel-" + i;
    this.channelNames[i] = name;
    this.channelUrls[i] = url;
    return name;
  }
}

/** The offsets (n mod 50) of a kind's events within each group of 50: [first, last]. */
function eventRange(kind: NexmarkKind): [first: number, last: number] {
  return kind === "person" ? [0, 0] : kind === "auction" ? [1, 3] : [4, 49];
}

/**
 * The records of kind `spec.eventKind` among events 0 … spec.events − 1, in event order (so in
 * event-time order). Iterable more than once (each iteration starts over).
 */
export function nexmarkEvents(spec: NexmarkSpec & { eventKind: "person" }): Iterable<NexmarkPerson>;
export function nexmarkEvents(spec: NexmarkSpec & { eventKind: "auction" }): Iterable<NexmarkAuction>;
export function nexmarkEvents(spec: NexmarkSpec & { eventKind: "bid" }): Iterable<NexmarkBid>;
export function nexmarkEvents(spec: NexmarkSpec): Iterable<NexmarkRecord>;
export function nexmarkEvents(spec: NexmarkSpec): Iterable<NexmarkRecord> {
  return {
    *[Symbol.iterator](): Iterator<NexmarkRecord> {
      for (const batch of nexmarkBatches(spec)) yield* batch;
    },
  };
}

/**
 * The same records as nexmarkEvents, in arrays of `batchSize` (the last one may be shorter;
 * no empty batch). Each batch is a new array the consumer may keep.
 */
export function nexmarkBatches(spec: NexmarkSpec & { eventKind: "person" }, batchSize?: number): Iterable<NexmarkPerson[]>;
export function nexmarkBatches(spec: NexmarkSpec & { eventKind: "auction" }, batchSize?: number): Iterable<NexmarkAuction[]>;
export function nexmarkBatches(spec: NexmarkSpec & { eventKind: "bid" }, batchSize?: number): Iterable<NexmarkBid[]>;
export function nexmarkBatches(spec: NexmarkSpec, batchSize?: number): Iterable<NexmarkRecord[]>;
export function nexmarkBatches(spec: NexmarkSpec, batchSize = 4096): Iterable<NexmarkRecord[]> {
  if (!(batchSize >= 1)) throw new RangeError(`nexmark: batchSize must be ≥ 1, got ${batchSize}`);
  const size = Math.floor(batchSize);
  const total = Math.max(0, Math.floor(spec.events));
  const kind = spec.eventKind;
  if (kind !== "person" && kind !== "auction" && kind !== "bid") {
    throw new RangeError(`nexmark: unknown event kind ${JSON.stringify(kind)}`);
  }
  const [first, last] = eventRange(kind);
  return {
    *[Symbol.iterator](): Iterator<NexmarkRecord[]> {
      const g = new NexmarkGenerator(spec);
      let batch: NexmarkRecord[] = [];
      for (let base = 0; base < total; base += TOTAL_PROPORTION) {
        const end = Math.min(base + last + 1, total);
        for (let n = base + first; n < end; n++) {
          batch.push(kind === "bid" ? g.bid(n) : kind === "auction" ? g.auction(n) : g.person(n));
          if (batch.length === size) {
            yield batch;
            batch = [];
          }
        }
      }
      if (batch.length > 0) yield batch;
    },
  };
}

/**
 * The generator as the runtime takes it (runtime/src/driver.ts `NexmarkProvider`; the runtime
 * does not import the stdlib): registered by the Node entry (runtime/src/node.ts) and by browser
 * hosts with `registerNexmark(nexmarkGenerator)`, or passed as `RunOptions.nexmark`.
 */
export const nexmarkGenerator = {
  schemas: NEXMARK_SCHEMAS,
  events: (spec: NexmarkSpec): Iterable<unknown> => nexmarkEvents(spec),
  batches: (spec: NexmarkSpec): Iterable<unknown[]> => nexmarkBatches(spec),
} as const;
