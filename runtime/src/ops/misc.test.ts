import { describe, expect, it } from "vitest";
import { KeyedAgg } from "./keyed-agg";
import { FinalTable } from "./final-table";
import { TimedDistinct } from "./timed-distinct";
import { WindowDistinct } from "./window-distinct";
import { WindowTop } from "./window-top";
import { CARRIED } from "./windows";
import { aggSpec, driveOne, expectedLines, line, readJsonl, rng, withTimes } from "./testdata/harness";

type Row = Record<string, any>;

describe("KeyedAgg", () => {
  it("c11: running count and sum per bidder, one update per record with its time", () => {
    const bids = readJsonl("c11_running_agg", "bids.jsonl").map((r) => withTimes(r, "dateTime"));
    const out: string[] = [];
    const times: number[] = [];
    const op = new KeyedAgg(
      aggSpec<Row>({ bidder: (r) => r.bidder }, { n: { fn: "count" }, spent: { fn: "sum", of: (r) => r.price } }, { windowed: false }),
      (r, t) => {
        out.push(JSON.stringify(r));
        times.push(t);
      },
    );
    driveOne(bids, "dateTime", 4000, op);
    expect(out).toEqual(expectedLines("c11_running_agg"));
    expect(times).toEqual(bids.map((b) => b.dateTime));
  });

  it("passes NaN window bounds", () => {
    const seen: number[] = [];
    const op = new KeyedAgg<number, { n: number }, number>(
      { key: () => null, init: () => ({ n: 0 }), add: (s) => void s.n++, result: (s, a, b) => (seen.push(a, b), s.n) },
      () => {},
    );
    op.push(1, 1);
    expect(seen.every(Number.isNaN)).toBe(true);
  });
});

describe("FinalTable", () => {
  it("keeps the latest row per present key in order of first appearance", () => {
    const t = new FinalTable<string>();
    t.upsert("a", "a1");
    t.upsert("b", "b1");
    t.remove("zz"); // never seen: no effect
    t.upsert("c", "c1");
    t.upsert("a", "a2");
    t.remove("b");
    t.upsert("d", "d1");
    t.upsert("b", "b2"); // keeps its first position
    t.remove("c");
    expect(t.rows()).toEqual(["a2", "b2", "d1"]);
    expect(t.size).toBe(3);
    t.remove("c");
    expect(t.size).toBe(3);
  });

  it("composes with KeyedAgg + where (HAVING) like emit final", () => {
    const table = new FinalTable<Row>();
    const op = new KeyedAgg(aggSpec<Row>({ k: (r) => r.k }, { s: { fn: "sum", of: (r) => r.v } }, { windowed: false }), (row: Row) => {
      if (row.s > 10) table.upsert(row.k, row);
      else table.remove(row.k);
    });
    for (const [k, v] of [["x", 5], ["y", 20], ["x", 6], ["y", -15], ["z", 11], ["y", 10]] as const) op.push({ k, v }, 0);
    // y reached the output first (s = 20), x only with its second update (s = 11)
    expect(table.rows()).toEqual([{ k: "y", s: 15 }, { k: "x", s: 11 }, { k: "z", s: 11 }]);
  });
});

describe("TimedDistinct", () => {
  it("c12: distinct user within 10s", () => {
    const clicks = readJsonl("c12_distinct_within", "clicks.jsonl").map((r) => withTimes(r, "ts"));
    const out: string[] = [];
    const op = new TimedDistinct<Row>(10_000, { key: (r) => r.user }, (r, t) => {
      expect(t).toBe(r.ts);
      out.push(line({ user: r.user, page: r.page, ts: r.ts }, ["ts"]));
    });
    driveOne(clicks, "ts", 0, op);
    expect(out).toEqual(expectedLines("c12_distinct_within"));
  });

  it("t − last < D suppresses (strict); eviction at wm ≥ last + D lets a later duplicate through", () => {
    const out: string[] = [];
    const op = new TimedDistinct<Row>(10, { key: (r) => r.k }, (r, t) => out.push(`${r.k}@${t}`));
    op.push({ k: "a" }, 100);
    op.push({ k: "a" }, 109); // 9 < 10: dropped
    op.push({ k: "a" }, 95); // out of order: −5 < 10: dropped
    op.push({ k: "a" }, 110); // 10: emitted, last = 110
    op.advance(119);
    op.push({ k: "a" }, 105); // 119 < 120: state kept, dropped
    op.advance(120); // evicted
    op.push({ k: "a" }, 111); // emitted again although 111 − 110 < 10
    op.push({ k: "a" }, 115); // dropped (last = 111)
    expect(out).toEqual(["a@100", "a@110", "a@111"]);
  });

  it("unbounded (Infinity) remembers every value; memory is swept by watermark", () => {
    const out: number[] = [];
    const unb = new TimedDistinct<number>(Infinity, { key: (r) => r % 10 }, (r) => out.push(r));
    for (let i = 0; i < 100; i++) {
      unb.push(i, i * 1000);
      unb.advance(i * 1000);
    }
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);

    const op = new TimedDistinct<number>(5, { key: (r) => r }, () => {});
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      op.push(i, i);
      op.advance(i);
      if (op.keys > max) max = op.keys;
    }
    expect(max).toBeLessThanOrEqual(2100);
  });

  it("matches a reference model on random data (seeded)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const d = 1 + Math.floor(rand() * 30);
      const delay = Math.floor(rand() * 20);
      const recs: Row[] = [];
      let base = 0;
      for (let i = 0; i < 300; i++) {
        base += Math.floor(rand() * 5);
        recs.push({ k: Math.floor(rand() * 3), t: base - Math.floor(rand() * 20) });
      }
      const out: number[] = [];
      const op = new TimedDistinct<Row>(d, { key: (r) => r.k }, (r) => out.push(recs.indexOf(r)));
      driveOne(recs, "t", delay, op);
      // reference: explicit eviction at every watermark
      const ref: number[] = [];
      const last = new Map<number, number>();
      let max = -Infinity;
      recs.forEach((r, i) => {
        const l = last.get(r.k);
        if (l === undefined || r.t - l >= d) {
          last.set(r.k, r.t);
          ref.push(i);
        }
        max = Math.max(max, r.t);
        for (const [k, v] of last) if (max - delay >= v + d) last.delete(k);
      });
      expect(out).toEqual(ref);
    }
  });
});

describe("WindowDistinct", () => {
  it("emits the first row of each value per window, as it arrives; late rows go to late", () => {
    const out: string[] = [];
    const late: string[] = [];
    const op = new WindowDistinct<Row>(
      { kind: "tumbling", size: 10 },
      { key: (r) => r.v },
      (r, t) => out.push(`${r.v}${r.n}@${t}`),
      (r) => late.push(`${r.v}${r.n}`),
    );
    op.push({ v: "a", n: 1 }, 1);
    op.push({ v: "b", n: 1 }, 2);
    op.push({ v: "a", n: 2 }, 3);
    op.push({ v: "a", n: 3 }, 12); // next window
    op.advance(10);
    op.push({ v: "c", n: 1 }, 9); // late
    op.push({ v: "a", n: 4 }, 13);
    op.push({ v: "b", n: 2 }, 14);
    expect(out).toEqual(["a1@1", "b1@2", "a3@12", "b2@14"]);
    expect(late).toEqual(["c1"]);
    expect(op.openWindows).toBe(1);
    op.advance(Infinity);
    expect(op.openWindows).toBe(0);
  });

  it("hop: a row is emitted once when new in at least one of its windows", () => {
    const out: string[] = [];
    const op = new WindowDistinct<Row>({ kind: "hop", size: 20, slide: 10 }, { key: (r) => r.v }, (r) => out.push(`${r.v}${r.n}`), () => {});
    op.push({ v: "a", n: 1 }, 5); // [-10,10) [0,20)
    op.push({ v: "a", n: 2 }, 8); // dup in both
    op.push({ v: "a", n: 3 }, 12); // [0,20) dup, [10,30) new
    expect(out).toEqual(["a1", "a3"]);
  });

  it("carried windows from derived rows (tumbling 1 ms over time = window_end − 1)", () => {
    const out: string[] = [];
    const op = new WindowDistinct<Row>(CARRIED, { key: (r) => r.v }, (r) => out.push(`${r.e}:${r.v}`), () => {});
    op.push({ e: 10, v: 1 }, 9);
    op.push({ e: 10, v: 1 }, 9);
    op.push({ e: 20, v: 1 }, 19);
    op.advance(10);
    op.push({ e: 10, v: 2 }, 9); // late: its window fired
    expect(out).toEqual(["10:1", "20:1"]);
  });
});

describe("WindowTop", () => {
  const mk = (n: number, withTies: boolean) => {
    const out: string[] = [];
    const times: number[] = [];
    const top = new WindowTop<Row>(
      { kind: "tumbling", size: 100 },
      n,
      withTies,
      { key: (r) => r.g, compare: (a, b) => b.score - a.score },
      (r, t) => {
        out.push(`${r.g}:${r.id}`);
        times.push(t);
      },
      () => {},
    );
    return { top, out, times };
  };
  const rows: [string, string, number][] = [
    ["x", "a", 5],
    ["y", "p", 1],
    ["x", "b", 7],
    ["x", "c", 5],
    ["x", "d", 9],
    ["x", "e", 5],
    ["y", "q", 3],
    ["x", "f", 7],
  ];

  it("best N per key, best first, ties by arrival; keys in first-seen order; time end − 1", () => {
    const { top, out, times } = mk(3, false);
    rows.forEach(([g, id, score]) => top.push({ g, id, score }, 10));
    top.advance(Infinity);
    expect(out).toEqual(["x:d", "x:b", "x:f", "y:q", "y:p"]);
    expect(times.every((t) => t === 99)).toBe(true);
  });

  it("with ties keeps every row tied with the Nth", () => {
    const { top, out } = mk(3, true);
    rows.slice(0, 6).forEach(([g, id, score]) => top.push({ g, id, score }, 10));
    top.advance(Infinity);
    // x: 9(d) 7(b) then the 5s: a, c, e all tie with the 3rd
    expect(out).toEqual(["x:d", "x:b", "x:a", "x:c", "x:e", "y:p"]);

    const t2 = mk(2, true);
    [["x", "a", 5], ["x", "b", 5], ["x", "c", 5], ["x", "d", 6], ["x", "e", 6]].forEach(([g, id, score]) =>
      t2.top.push({ g, id, score }, 10),
    );
    t2.top.advance(Infinity);
    expect(t2.out).toEqual(["x:d", "x:e"]); // the 5s stop tying with the 2nd once two 6s arrive
  });

  it("matches sort-then-slice on random data (seeded), per window in end order", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const n = 1 + Math.floor(rand() * 4);
      const withTies = rand() < 0.5;
      const recs: Row[] = [];
      for (let i = 0; i < 200; i++) recs.push({ id: i, g: Math.floor(rand() * 3), score: Math.floor(rand() * 6), t: Math.floor(rand() * 300) });
      const out: string[] = [];
      const top = new WindowTop<Row>({ kind: "tumbling", size: 100 }, n, withTies, { key: (r) => r.g, compare: (a, b) => b.score - a.score }, (r, t) =>
        out.push(`${t}:${r.id}`),
      () => {});
      for (const r of recs) top.push(r, r.t);
      top.advance(Infinity);
      const ref: string[] = [];
      for (const w of [0, 100, 200]) {
        const inW = recs.filter((r) => r.t >= w && r.t < w + 100);
        const groups: number[] = [];
        for (const r of inW) if (!groups.includes(r.g)) groups.push(r.g);
        for (const g of groups) {
          const s = inW.filter((r) => r.g === g).sort((a, b) => b.score - a.score || a.id - b.id);
          let k = Math.min(n, s.length);
          if (withTies) while (k < s.length && s[k]!.score === s[n - 1]!.score) k++;
          for (const r of s.slice(0, k)) ref.push(`${w + 99}:${r.id}`);
        }
      }
      expect(out).toEqual(ref);
    }
  });
});
