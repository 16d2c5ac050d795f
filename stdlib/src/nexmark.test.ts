import { describe, expect, it } from "vitest";
import {
  NEXMARK_DEFAULTS,
  NEXMARK_SCHEMAS,
  NEXMARK_TYPES,
  NexmarkGenerator,
  nexmarkBatches,
  nexmarkEvents,
  nexmarkGenerator,
  type NexmarkAuction,
  type NexmarkBid,
  type NexmarkPerson,
  type NexmarkSpec,
} from "./nexmark.js";

const START = Date.UTC(2015, 6, 15);
const base = { rate: 10_000, seed: 7, start: START };
const bids = (events: number, extra: Partial<NexmarkSpec> = {}): NexmarkBid[] => [
  ...nexmarkEvents({ ...base, ...extra, eventKind: "bid", events }),
];
const auctions = (events: number, extra: Partial<NexmarkSpec> = {}): NexmarkAuction[] => [
  ...nexmarkEvents({ ...base, ...extra, eventKind: "auction", events }),
];
const persons = (events: number, extra: Partial<NexmarkSpec> = {}): NexmarkPerson[] => [
  ...nexmarkEvents({ ...base, ...extra, eventKind: "person", events }),
];

const HOT_CHANNELS = ["Google", "Facebook", "Baidu", "Apple"];
const URL_RE = /^https:\/\/www\.nexmark\.com\/[a-z_]{3,4}\/[a-z_]{3,4}\/[a-z_]{3,4}\/item\.htm\?query=1(&channel_id=-?\d+)?$/;

/** extra(cur, avg) length bounds: [t − d, t + d) with t = avg − cur, d = round(0.2·t). */
function extraBounds(cur: number, avg: number): [number, number] {
  const t = avg - cur;
  const d = Math.round(t * 0.2);
  return [t - d, t + d - (d === 0 ? 0 : 1)];
}

describe("interleaving and ids", () => {
  it("per 50 events: 1 person, 3 auctions, 46 bids", () => {
    expect(persons(5000)).toHaveLength(100);
    expect(auctions(5000)).toHaveLength(300);
    expect(bids(5000)).toHaveLength(4600);
    // A partial group: events 0…74 = group 0 + n = 50…74.
    expect(persons(75)).toHaveLength(2);
    expect(auctions(75)).toHaveLength(6);
    expect(bids(75)).toHaveLength(46 + 21);
    expect(bids(4)).toHaveLength(0);
    expect(bids(5)).toHaveLength(1);
    expect(auctions(2)).toHaveLength(1);
    expect(persons(0)).toHaveLength(0);
    const g = new NexmarkGenerator(base);
    expect([0, 1, 2, 3, 4, 49, 50, 51].map((n) => g.kindOf(n))).toEqual([
      "person", "auction", "auction", "auction", "bid", "bid", "person", "auction",
    ]);
  });

  it("person and auction ids count up from 1000", () => {
    expect(persons(50 * 300).map((p) => p.id)).toEqual(Array.from({ length: 300 }, (_, i) => 1000 + i));
    expect(auctions(50 * 300).map((a) => a.id)).toEqual(Array.from({ length: 900 }, (_, i) => 1000 + i));
  });

  it("bids refer to existing (or just-ahead) auctions and persons", () => {
    const g = new NexmarkGenerator(base);
    let hotAuction = 0;
    let hotBidder = 0;
    const N = 200_000;
    let count = 0;
    const bad: string[] = [];
    for (let n = 0; n < N; n++) {
      if (g.kindOf(n) !== "bid") continue;
      count++;
      const b = g.bid(n);
      const epoch = Math.floor(n / 50);
      const lastAuction = 3 * epoch + 2;
      const a = b.auction - 1000;
      if (a < Math.max(lastAuction - 100, 0) || a > lastAuction + 10) bad.push(`event ${n}: auction ${b.auction}`);
      if (a === Math.floor(lastAuction / 100) * 100) hotAuction++;
      const p = b.bidder - 1000;
      const active = Math.min(epoch + 1, 1000);
      if (p < epoch + 1 - active || p >= epoch + 1 + 10) bad.push(`event ${n}: bidder ${b.bidder}`);
      if (p === Math.floor(epoch / 100) * 100 + 1) hotBidder++;
    }
    expect(bad).toEqual([]);
    // Hot auction p = 1/2 (+ the random pick landing on it), hot bidder p = 3/4 (+ likewise).
    expect(hotAuction / count).toBeGreaterThan(0.49);
    expect(hotAuction / count).toBeLessThan(0.53);
    expect(hotBidder / count).toBeGreaterThan(0.74);
    expect(hotBidder / count).toBeLessThan(0.77);
  });

  it("auction sellers: the hot seller with p 3/4, else an active person", () => {
    const list = auctions(50 * 20_000);
    let hot = 0;
    const bad: number[] = [];
    for (const a of list) {
      const epoch = Math.floor((a.id - 1000) / 3);
      const s = a.seller - 1000;
      if (s === Math.floor(epoch / 100) * 100) hot++;
      if (s < epoch + 1 - Math.min(epoch + 1, 1000) || s >= epoch + 1 + 10) bad.push(a.id);
    }
    expect(bad).toEqual([]);
    expect(hot / list.length).toBeGreaterThan(0.74);
    expect(hot / list.length).toBeLessThan(0.77);
  });
});

describe("event time", () => {
  it("is start + floor(n · 1e6 / rate / 1000) ms", () => {
    const g = new NexmarkGenerator(base);
    expect(g.time(0)).toBe(START);
    expect(g.time(9)).toBe(START);
    expect(g.time(10)).toBe(START + 1);
    expect(g.time(12345)).toBe(START + 1234);
    const slow = new NexmarkGenerator({ ...base, rate: 3 });
    expect(slow.time(3)).toBe(START + 1000);
    expect(slow.time(4)).toBe(START + 1333);
    expect(new NexmarkGenerator({ ...base, rate: 1000 }).time(777)).toBe(START + 777);
  });

  it("records carry their event's time, in order", () => {
    const bs = bids(5000);
    expect(bs[0]!.dateTime).toBe(START); // event 4
    expect(bs[6]!.dateTime).toBe(START + 1); // event 10
    for (let i = 1; i < bs.length; i++) expect(bs[i]!.dateTime).toBeGreaterThanOrEqual(bs[i - 1]!.dateTime);
    expect(bs[bs.length - 1]!.dateTime).toBe(START + 499); // event 4999
    const ps = persons(5000, { rate: 1000, start: 0 });
    expect(ps.map((p) => p.dateTime).slice(0, 3)).toEqual([0, 50, 100]);
    const as = auctions(100, { rate: 100, start: 5 });
    expect(as.map((a) => a.dateTime)).toEqual([15, 25, 35, 515, 525, 535]);
  });

  it("auctions expire after their start, within twice the in-flight horizon", () => {
    const g = new NexmarkGenerator(base);
    const bad: number[] = [];
    let longest = 0;
    for (const a of auctions(50_000)) {
      const n = ((a.id - 1000) / 3 | 0) * 50 + ((a.id - 1000) % 3) + 1;
      const horizon = g.time(n + 1666) - a.dateTime;
      if (!(a.expires > a.dateTime && a.expires <= a.dateTime + 2 * horizon)) bad.push(a.id);
      longest = Math.max(longest, a.expires - a.dateTime);
    }
    expect(bad).toEqual([]);
    expect(longest).toBeGreaterThan(300); // 2 · 166.6 ms at 10,000 events/s
  });

  it("uses the documented defaults", () => {
    expect(NEXMARK_DEFAULTS.rate).toBe(10_000);
    expect(new Date(NEXMARK_DEFAULTS.start).toISOString()).toBe("2015-07-15T00:00:00.000Z");
  });
});

describe("determinism", () => {
  it("the same seed gives the same records; other seeds differ", () => {
    expect(bids(3000)).toEqual(bids(3000));
    expect(persons(3000)).toEqual(persons(3000));
    expect(auctions(3000)).toEqual(auctions(3000));
    const a = bids(3000);
    const b = bids(3000, { seed: 8 });
    expect(b).toHaveLength(a.length);
    const samePrice = a.filter((x, i) => x.price === b[i]!.price).length;
    const sameExtra = a.filter((x, i) => x.extra === b[i]!.extra).length;
    expect(samePrice).toBeLessThan(a.length * 0.01);
    expect(sameExtra).toBeLessThan(a.length * 0.01);
    expect(persons(3000, { seed: 8 })).not.toEqual(persons(3000));
    expect(auctions(3000, { seed: 8 })).not.toEqual(auctions(3000));
    expect(bids(500, { seed: 2 ** 40 + 7 })).not.toEqual(bids(500, { seed: 7 }));
  });

  it("any event can be generated alone, and the rate only moves times", () => {
    const all = bids(20_000);
    const g = new NexmarkGenerator(base);
    const ns: number[] = [];
    for (let n = 0; n < 20_000; n++) if (g.kindOf(n) === "bid") ns.push(n);
    for (const i of [0, 1, 45, 46, 1234, ns.length - 1]) expect(g.bid(ns[i]!)).toEqual(all[i]);
    // A fresh generator, events out of order, other kinds in between.
    const h = new NexmarkGenerator(base);
    h.person(0);
    h.auction(52);
    expect(h.bid(ns[1234]!)).toEqual(all[1234]);
    const slow = bids(20_000, { rate: 10 });
    expect(slow.map(({ dateTime: _, ...r }) => r)).toEqual(all.map(({ dateTime: _, ...r }) => r));
    // Interleaved iterators do not disturb each other.
    const it1 = nexmarkEvents({ ...base, eventKind: "bid", events: 1000 })[Symbol.iterator]();
    const it2 = nexmarkEvents({ ...base, eventKind: "bid", events: 1000, seed: 99 })[Symbol.iterator]();
    const mixed: NexmarkBid[] = [];
    for (let i = 0; i < 10; i++) {
      mixed.push(it1.next().value as NexmarkBid);
      it2.next();
    }
    expect(mixed).toEqual(all.slice(0, 10));
  });

  it("batches hold the same records in order", () => {
    const spec = { ...base, eventKind: "bid" as const, events: 10_000 };
    const batches = [...nexmarkBatches(spec, 1000)];
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 200]);
    expect(batches.flat()).toEqual([...nexmarkEvents(spec)]);
    expect([...nexmarkBatches(spec)].map((b) => b.length)).toEqual([4096, 4096, 1008]);
    expect([...nexmarkBatches({ ...spec, events: 0 })]).toEqual([]);
    // Iterable again from the start.
    const once = nexmarkBatches(spec, 5000);
    expect([...once].flat()).toEqual([...once].flat());
  });
});

describe("bid fields", () => {
  const list = bids(50 * 2200); // 101,200 bids

  it("prices are log-uniform over 100…1e8: ~1/3 per band", () => {
    expect(list.length).toBeGreaterThanOrEqual(100_000);
    let low = 0;
    let mid = 0;
    let high = 0;
    let bad = 0;
    for (const b of list) {
      if (!Number.isInteger(b.price) || b.price < 100 || b.price > 100_000_000) bad++;
      if (b.price < 10_000) low++;
      else if (b.price < 1_000_000) mid++;
      else high++;
    }
    expect(bad).toBe(0);
    for (const c of [low, mid, high]) {
      expect(c / list.length).toBeGreaterThan(0.32);
      expect(c / list.length).toBeLessThan(0.347);
    }
  });

  it("channels: half the four hot ones with fixed urls, else channel-i with its own url", () => {
    let hot = 0;
    let withId = 0;
    const urlOf = new Map<string, string>();
    const bad: string[] = [];
    for (const b of list) {
      if (!URL_RE.test(b.url)) bad.push(b.url);
      const known = urlOf.get(b.channel);
      if (known === undefined) urlOf.set(b.channel, b.url);
      else if (b.url !== known) bad.push(`${b.channel}: ${b.url} != ${known}`);
      if (HOT_CHANNELS.includes(b.channel)) {
        hot++;
        if (b.url.includes("channel_id")) bad.push(b.url);
      } else if (!/^channel-(0|[1-9]\d{0,3})$/.test(b.channel)) {
        bad.push(b.channel);
      }
    }
    expect(bad).toEqual([]);
    expect(hot / list.length).toBeGreaterThan(0.49);
    expect(hot / list.length).toBeLessThan(0.51);
    for (const [channel, url] of urlOf) {
      if (HOT_CHANNELS.includes(channel)) continue;
      const i = Number(channel.slice("channel-".length));
      const m = /&channel_id=(-?\d+)$/.exec(url);
      if (m === null) continue;
      withId++;
      // Java's Math.abs(Integer.reverse(i)).
      let rev = 0;
      for (let bit = 0; bit < 32; bit++) if (i & (1 << bit)) rev |= 1 << (31 - bit);
      expect(Number(m[1])).toBe(rev === -2147483648 ? rev : Math.abs(rev));
    }
    const regular = [...urlOf.keys()].filter((c) => !HOT_CHANNELS.includes(c)).length;
    expect(regular).toBeGreaterThan(9000); // most of the 10,000 channels appear
    expect(withId / regular).toBeGreaterThan(0.88);
    expect(withId / regular).toBeLessThan(0.92);
    // The same channel has the same url in another run of the same seed.
    const g = new NexmarkGenerator(base);
    const again = new Map<string, string>();
    for (let n = 4; n < 20_000; n++) if (g.kindOf(n) === "bid") again.set(g.bid(n).channel, g.bid(n).url);
    for (const [c, u] of again) expect(urlOf.get(c) ?? u).toBe(u);
  });

  it("q21: channel_id of channel-1 is Java's abs(MIN_VALUE), of channel-2 is 2^30", () => {
    const g = new NexmarkGenerator(base);
    const found = new Map<string, string>();
    for (let n = 4; found.size < 10_000 && n < 3_000_000; n++) {
      if (g.kindOf(n) !== "bid") continue;
      const b = g.bid(n);
      if (b.channel === "channel-1" || b.channel === "channel-2") found.set(b.channel, b.url);
      if (found.size === 2) break;
    }
    for (const [c, u] of found) {
      if (!u.includes("channel_id")) continue;
      expect(u.endsWith(c === "channel-1" ? "&channel_id=-2147483648" : "&channel_id=1073741824")).toBe(true);
    }
  });

  it("extra has 54–81 lowercase letters", () => {
    let min = Infinity;
    let max = -Infinity;
    let bad = 0;
    for (const b of list) {
      if (!/^[a-z]+$/.test(b.extra)) bad++;
      min = Math.min(min, b.extra.length);
      max = Math.max(max, b.extra.length);
    }
    expect(bad).toBe(0);
    expect(min).toBe(54);
    expect(max).toBe(81);
  });

  it("field order is the Flink DDL's", () => {
    expect(Object.keys(list[0]!)).toEqual(["auction", "bidder", "price", "channel", "url", "dateTime", "extra"]);
    expect(Object.keys(list[0]!)).toEqual(NEXMARK_SCHEMAS.bid.fields.map((f) => f.name));
  });
});

describe("person and auction fields", () => {
  it("persons follow the field rules", () => {
    const first = ["Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter"];
    const last = ["Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris"];
    const cities = ["Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent", "Cheyenne"];
    const states = ["AZ", "CA", "ID", "OR", "WA", "WY"];
    const ps = persons(50 * 5000);
    const seenStates = new Set<string>();
    const bad: NexmarkPerson[] = [];
    for (const p of ps) {
      const [f, l] = p.name.split(" ");
      const cur = 8 + p.name.length + p.emailAddress.length + p.creditCard.length + p.city.length + p.state.length;
      const [lo, hi] = extraBounds(cur, 200);
      const ok =
        first.includes(f!) &&
        last.includes(l!) &&
        /^[a-z ]{0,6}@[a-z ]{0,4}\.com$/.test(p.emailAddress) &&
        /^\d{4} \d{4} \d{4} \d{4}$/.test(p.creditCard) &&
        cities.includes(p.city) &&
        states.includes(p.state) &&
        p.extra.length >= lo &&
        p.extra.length <= hi &&
        /^[a-z]*$/.test(p.extra);
      if (!ok) bad.push(p);
      seenStates.add(p.state);
    }
    expect(bad).toEqual([]);
    expect(seenStates.size).toBe(6);
    expect(Object.keys(ps[0]!)).toEqual(NEXMARK_SCHEMAS.person.fields.map((f) => f.name));
  });

  it("auctions follow the field rules", () => {
    const as = auctions(50 * 5000);
    const cats = new Map<number, number>();
    const bad: NexmarkAuction[] = [];
    const trimmed = /^([a-z][a-z ]*[a-z]|[a-z]?)$/;
    for (const a of as) {
      cats.set(a.category, (cats.get(a.category) ?? 0) + 1);
      const [lo, hi] = extraBounds(8 + a.itemName.length + a.description.length + 40, 500);
      const ok =
        a.category >= 10 &&
        a.category <= 14 &&
        a.initialBid >= 100 &&
        a.reserve > a.initialBid &&
        a.itemName.length <= 19 &&
        a.description.length <= 99 &&
        trimmed.test(a.itemName) &&
        trimmed.test(a.description) &&
        a.extra.length >= lo &&
        a.extra.length <= hi &&
        /^[a-z]+$/.test(a.extra);
      if (!ok) bad.push(a);
    }
    expect(bad).toEqual([]);
    expect(cats.size).toBe(5);
    for (const c of cats.values()) expect(c / as.length).toBeGreaterThan(0.18);
    expect(Object.keys(as[0]!)).toEqual(NEXMARK_SCHEMAS.auction.fields.map((f) => f.name));
  });

  it("NEXMARK_TYPES declares the three types with the DDL field names", () => {
    for (const [kind, type] of [
      ["person", "Person"],
      ["auction", "Auction"],
      ["bid", "Bid"],
    ] as const) {
      const line = NEXMARK_TYPES.split("\n").find((l) => l.startsWith(`type ${type} = {`));
      expect(line, type).toBeDefined();
      const fields = [...line!.matchAll(/(\w+): (\w+)/g)].map((m) => [m[1], m[2]]);
      expect(fields).toEqual(NEXMARK_SCHEMAS[kind].fields.map((f) => [f.name, f.type.kind]));
    }
  });

  it("nexmarkGenerator is the runtime's NexmarkProvider over the same records", () => {
    const provider: import("../../runtime/src/driver.js").NexmarkProvider = nexmarkGenerator;
    const spec = { eventKind: "bid", events: 300, rate: 1000, seed: 7, start: 0 } as const;
    expect(provider.schemas).toBe(NEXMARK_SCHEMAS);
    expect([...provider.batches(spec)].flat()).toEqual([...nexmarkEvents(spec)]);
    expect([...provider.events(spec)]).toEqual([...nexmarkEvents(spec)]);
  });
});
