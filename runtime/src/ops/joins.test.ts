import { describe, expect, it } from "vitest";
import { IntervalJoin, type JoinSpec } from "./interval-join";
import { WindowJoin } from "./window-join";
import { CARRIED } from "./windows";
import type { Key } from "./types";
import { driveMerged, expectedLines, readJsonl, rng, withTimes } from "./testdata/harness";

type Row = Record<string, any>;
const sorted = (a: string[]) => [...a].sort();

/**
 * Runs an interval join over two files read like the runtime: `leftIndex`/`rightIndex` give the
 * declaration order (ties in the merged read go to the lower index).
 */
function runInterval(
  dir: string,
  files: { left: string; right: string; leftFirst: boolean },
  delay: number,
  lower: number,
  upper: number,
  spec: JoinSpec<Row, Row, Row>,
  timeField = "ts",
): { rows: Row[]; times: number[] } {
  const left = readJsonl(dir, files.left).map((r) => withTimes(r, timeField));
  const right = readJsonl(dir, files.right).map((r) => withTimes(r, timeField));
  const rows: Row[] = [];
  const times: number[] = [];
  const join = new IntervalJoin(lower, upper, spec, (r, t) => {
    rows.push(r);
    times.push(t);
  });
  const sources = files.leftFirst
    ? [
        { records: left, timeField, delay },
        { records: right, timeField, delay },
      ]
    : [
        { records: right, timeField, delay },
        { records: left, timeField, delay },
      ];
  const leftIdx = files.leftFirst ? 0 : 1;
  driveMerged(
    sources,
    (src, row, t) => (src === leftIdx ? join.pushLeft(row, t) : join.pushRight(row, t)),
    (src, wm) => (src === leftIdx ? join.advanceLeft(wm) : join.advanceRight(wm)),
  );
  return { rows, times };
}

function eqJoin<L = Row, R = Row, O = Row>(
  lk: (l: L) => Key,
  rk: (r: R) => Key,
  combine: (l: L, r: R) => O,
  match: (l: L, r: R) => boolean = () => true,
): JoinSpec<L, R, O> {
  return { leftKey: lk, rightKey: rk, match, combine };
}

describe("IntervalJoin", () => {
  it("c08: bids join auctions within 5s", () => {
    const { rows, times } = runInterval(
      "c08_interval_join",
      { left: "bids.jsonl", right: "auctions.jsonl", leftFirst: false },
      1000,
      -5000,
      5000,
      {
        leftKey: (b) => b.auction,
        rightKey: (a) => a.id,
        match: () => true,
        combine: (b, a) => ({ id: a.id, category: a.category, bidder: b.bidder, price: b.price, bt: b.dateTime, at: a.dateTime }),
      },
      "dateTime",
    );
    expect(sorted(rows.map((r) => JSON.stringify({ id: r.id, category: r.category, bidder: r.bidder, price: r.price })))).toEqual(
      sorted(expectedLines("c08_interval_join")),
    );
    rows.forEach((r, i) => expect(times[i]).toBe(Math.max(r.bt, r.at)));
  });

  it("c22: within -30s .. 0s (r.t − l.t ∈ [A, B], inclusive)", () => {
    const { rows } = runInterval(
      "c22_interval_bounds",
      { left: "clicks.jsonl", right: "imps.jsonl", leftFirst: false },
      1000,
      -30_000,
      0,
      eqJoin(
        (c) => c.imp,
        (i) => i.id,
        (c, i) => ({ user: c.user, campaign: i.campaign, delay: c.ts - i.ts }),
      ),
    );
    expect(sorted(rows.map((r) => JSON.stringify(r)))).toEqual(sorted(expectedLines("c22_interval_bounds")));
    expect(rows.some((r) => r.delay === 0)).toBe(true);
  });

  const sel = (l: Row, r: Row) => ({ id: l.id, name: l.name, value: l.value, f1: r.f1, f2: r.f2 });
  const peer: [string, string, string, number, number, JoinSpec<Row, Row, Row>, ((r: Row) => boolean)?][] = [
    ["ksql_join_inner", "left.jsonl", "right.jsonl", -11_000, 11_000, eqJoin((l) => l.id, (r) => r.id, sel)],
    ["ksql_join_before_after", "left.jsonl", "right.jsonl", -11_000, 10_000, eqJoin((l) => l.id, (r) => r.id, sel)],
    ["ksql_join_out_of_order", "left.jsonl", "right.jsonl", -10_000, 10_000, eqJoin((l) => l.id, (r) => r.id, sel)],
    [
      "ksql_join_custom_timestamp",
      "s1.jsonl",
      "s2.jsonl",
      -11_000,
      11_000,
      eqJoin((l) => l.id, (r) => r.id, (l, r) => ({ id: l.id, name: l.name, ts: l.ts, f1: r.f1, f2: r.f2 })),
    ],
    ["ksql_join_nullable_values", "s1.jsonl", "s2.jsonl", -1000, 1000, eqJoin((l) => l.id, (r) => r.id, (l, r) => ({ id: l.id, name1: l.name, name2: r.name }))],
    ["ksql_join_on_arithmetic", "test1.jsonl", "test2.jsonl", -30_000, 30_000, eqJoin((l) => l.id, (r) => r.id + 1, (l, r) => ({ t_id: l.id, tt_id: r.id }))],
    [
      "ksql_join_on_case",
      "test1.jsonl",
      "test2.jsonl",
      -30_000,
      30_000,
      eqJoin((l) => l.id, (r) => (r.id === 2 ? 1 : 3), (l, r) => ({ t_id: l.id, tt_id: r.id })),
    ],
    [
      "ksql_join_where_after",
      "l.jsonl",
      "r.jsonl",
      -10_000,
      10_000,
      eqJoin((l) => l.a, (r) => r.a, (l, r) => ({ l_a: l.a, l_b: l.b, l_c: l.c, r_a: r.a, r_b: r.b, r_c: r.c })),
      (row) => row.r_b < 5,
    ],
    [
      "ksql_join_with_where",
      "impressions.jsonl",
      "clicks.jsonl",
      -60_000,
      60_000,
      eqJoin((i) => i.user, (c) => c.user, (i, c) => ({ user: i.user, impression_id: i.impression_id, url: i.url, curl: c.url })),
      (row) => row.url === row.curl,
    ],
  ];
  for (const [dir, lf, rf, lower, upper, spec, where] of peer) {
    it(`peer ${dir}`, () => {
      // in every peer case the left side is declared first
      const { rows } = runInterval(dir, { left: lf, right: rf, leftFirst: true }, 86_400_000, lower, upper, spec);
      const kept = rows.filter((r) => (where ? where(r) : true));
      const out = kept.map((r) => {
        const { curl: _c, ...rest } = r;
        return JSON.stringify(rest);
      });
      expect(sorted(out)).toEqual(sorted(expectedLines(dir)));
    });
  }

  it("peer join_three_streams: a join of a join uses the joined row's time", () => {
    const dir = "ksql_join_three_streams";
    const s = [1, 2, 3].map((i) => readJsonl(dir, `s${i}.jsonl`));
    const out: string[] = [];
    const j2 = new IntervalJoin<Row, Row, Row>(
      -10_000,
      10_000,
      eqJoin((l) => l.s1.id, (r) => r.id, (l, r) => ({ id: l.s2.id, s1_v0: l.s1.v0, s2_v0: l.s2.v0, s3_v0: r.v0 })),
      (r) => out.push(JSON.stringify(r)),
    );
    const j1 = new IntervalJoin<Row, Row, Row>(
      -5000,
      5000,
      eqJoin((l) => l.id, (r) => r.id, (l, r) => ({ s1: l, s2: r })),
      (r, t) => j2.pushLeft(r, t),
    );
    driveMerged(
      s.map((records) => ({ records, timeField: "ts", delay: 86_400_000 })),
      (src, row, t) => (src === 0 ? j1.pushLeft(row, t) : src === 1 ? j1.pushRight(row, t) : j2.pushRight(row, t)),
      (src, wm) => {
        if (src === 0) j1.advanceLeft(wm);
        else if (src === 1) j1.advanceRight(wm);
        else j2.advanceRight(wm);
        if (src !== 2) j2.advanceLeft(j1.watermark);
      },
    );
    expect(sorted(out)).toEqual(sorted(expectedLines(dir)));
  });

  it("null keys never match; pairs are emitted once, when the second row arrives", () => {
    const out: string[] = [];
    const j = new IntervalJoin<Row, Row, string>(-10, 10, eqJoin<Row, Row, string>((l) => l.k, (r) => r.k, (l, r) => `${l.n}-${r.n}`), (r, t) =>
      out.push(`${r}@${t}`),
    );
    j.pushLeft({ k: null, n: "l0" }, 0);
    j.pushRight({ k: null, n: "r0" }, 0);
    j.pushLeft({ k: 1, n: "l1" }, 5);
    j.pushRight({ k: 1, n: "r1" }, 15); // 15 − 5 = 10: inclusive
    j.pushRight({ k: 1, n: "r2" }, 16); // 11: out
    j.pushRight({ k: 1, n: "r3" }, -5); // −10: inclusive
    j.pushLeft({ k: 1, n: "l2" }, 6); // pairs with r1 (9), r2 (10), r3 (−11: out), in right arrival order
    expect(out).toEqual(["l1-r1@15", "l1-r3@5", "l2-r1@15", "l2-r2@16"]);
  });

  it("evicts by watermark; a row below the watermark joins with what remains", () => {
    const out: string[] = [];
    const j = new IntervalJoin<Row, Row, string>(-100, 50, eqJoin<Row, Row, string>(() => 1, () => 1, (l, r) => `${l.n}-${r.n}`), (r) => out.push(r));
    j.pushLeft({ n: "a" }, 0); // evicted when 0 + 50 < wm
    j.pushRight({ n: "x" }, 120); // evicted when 120 + 100 < wm
    j.advance(50); // 50 < 50 is false: a stays
    j.pushRight({ n: "y" }, 40); // below the watermark: still joins a (40 − 0 ∈ [−100, 50])
    j.advance(51); // a evicted
    j.pushRight({ n: "z" }, 30); // a is gone
    j.pushLeft({ n: "b" }, 20); // pairs with x? 120 − 20 = 100 > 50: no; y (20): yes. z (10) is kept? 30+100=130 ≥ 51: yes → pair
    expect(out).toEqual(["a-y", "b-y", "b-z"]);
    j.advance(221);
    j.pushLeft({ n: "c" }, 170); // x (120 + 100 = 220 < 221) evicted: no pair although 120 − 170 = −50 ∈ bounds
    expect(out).toEqual(["a-y", "b-y", "b-z"]);
  });

  it("unbounded join (−∞, +∞) keeps everything; memory is reclaimed by sweeps", () => {
    const out: number[] = [];
    const unb = new IntervalJoin<number, number, number>(-Infinity, Infinity, eqJoin<number, number, number>((l) => l % 3, (r) => r % 3, (l, r) => l * 1000 + r), (x) => out.push(x));
    unb.pushLeft(1, 0);
    unb.advance(1e12);
    unb.pushRight(4, 1e13);
    expect(out).toEqual([1004]);

    const j = new IntervalJoin<number, number, number>(-10, 10, eqJoin<number, number, number>((l) => l % 100, (r) => r % 100, (l, r) => l + r), () => {});
    let max = 0;
    for (let i = 0; i < 200_000; i++) {
      j.pushLeft(i, i);
      j.pushRight(i, i);
      j.advance(i - 5);
      if (j.bufferedRows > max) max = j.bufferedRows;
    }
    expect(max).toBeLessThan(10_000);
  });

  it("matches a brute-force nested loop on random data (seeded)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rand = rng(seed);
      const lower = -Math.floor(rand() * 50);
      const upper = Math.floor(rand() * 50);
      const ls: Row[] = [];
      const rs: Row[] = [];
      for (let i = 0; i < 150; i++) {
        ls.push({ k: Math.floor(rand() * 4), t: Math.floor(rand() * 1000), n: i });
        rs.push({ k: Math.floor(rand() * 4), t: Math.floor(rand() * 1000), n: i });
      }
      const out: string[] = [];
      const j = new IntervalJoin<Row, Row, string>(
        lower,
        upper,
        { leftKey: (l) => l.k, rightKey: (r) => r.k, match: (l, r) => (l.n + r.n) % 3 !== 0, combine: (l, r) => `${l.n}-${r.n}` },
        (x) => out.push(x),
      );
      for (let i = 0; i < 150; i++) {
        j.pushLeft(ls[i]!, ls[i]!.t);
        j.pushRight(rs[i]!, rs[i]!.t);
      }
      const ref: string[] = [];
      for (const l of ls)
        for (const r of rs)
          if (l.k === r.k && r.t - l.t >= lower && r.t - l.t <= upper && (l.n + r.n) % 3 !== 0) ref.push(`${l.n}-${r.n}`);
      expect(sorted(out)).toEqual(sorted(ref));
    }
  });
});

describe("WindowJoin", () => {
  it("c09: persons join auctions in the same 10s tumbling window", () => {
    const dir = "c09_window_join";
    const persons = readJsonl(dir, "persons.jsonl").map((r) => withTimes(r, "dateTime"));
    const auctions = readJsonl(dir, "auctions.jsonl").map((r) => withTimes(r, "dateTime"));
    const rows: Row[] = [];
    const times: number[] = [];
    const lates: Row[] = [];
    const j = new WindowJoin<Row, Row, Row>(
      { kind: "tumbling", size: 10_000 },
      {
        leftKey: (p) => p.id,
        rightKey: (a) => a.seller,
        match: () => true,
        combine: (p, a, ws, we) => ({ id: p.id, name: p.name, reserve: a.reserve, ws, we }),
      },
      (r, t) => {
        rows.push(r);
        times.push(t);
      },
      (l) => lates.push(l),
      (r) => lates.push(r),
    );
    driveMerged(
      [
        { records: persons, timeField: "dateTime", delay: 0 },
        { records: auctions, timeField: "dateTime", delay: 0 },
      ],
      (src, row, t) => (src === 0 ? j.pushLeft(row, t) : j.pushRight(row, t)),
      (src, wm) => (src === 0 ? j.advanceLeft(wm) : j.advanceRight(wm)),
    );
    expect(sorted(rows.map((r) => JSON.stringify({ id: r.id, name: r.name, reserve: r.reserve })))).toEqual(sorted(expectedLines(dir)));
    rows.forEach((r, i) => expect(times[i]).toBe(r.we - 1));
    expect(j.openWindows).toBe(0);
  });

  it("emits pairs in left then right arrival order per window, windows in end order; late rows go to late", () => {
    const out: string[] = [];
    const late: string[] = [];
    const j = new WindowJoin<Row, Row, string>(
      { kind: "hop", size: 20, slide: 10 },
      { leftKey: (l) => l.k, rightKey: (r) => r.k, match: (l, r) => r.n !== "rx", combine: (l, r, s) => `${s}:${l.n}-${r.n}` },
      (x) => out.push(x),
      (l) => late.push(l.n),
      (r) => late.push(r.n),
    );
    j.pushRight({ k: 1, n: "r1" }, 12); // windows [0,20) [10,30)
    j.pushLeft({ k: 1, n: "l1" }, 15);
    j.pushLeft({ k: 2, n: "l2" }, 5); // [-10,10) [0,20)
    j.pushRight({ k: 1, n: "rx" }, 11);
    j.pushLeft({ k: 1, n: "l3" }, 3); // [-10,10) [0,20)
    j.pushRight({ k: 1, n: "r2" }, 1); // [-10,10) [0,20)
    j.pushRight({ k: null, n: "rn" }, 1);
    j.advance(20);
    expect(out).toEqual(["-10:l3-r2", "0:l1-r1", "0:l1-r2", "0:l3-r1", "0:l3-r2"]);
    j.pushLeft({ k: 1, n: "late" }, 9); // windows [-10,10) and [0,20) both fired
    j.pushLeft({ k: 1, n: "l4" }, 19); // [10,30) still open
    expect(late).toEqual(["late"]);
    j.advance(Infinity);
    expect(out.slice(5)).toEqual(["10:l1-r1", "10:l4-r1"]);
  });

  it("carried windows: both sides' derived rows meet in their window (tumbling 1 ms, time = end − 1)", () => {
    const out: string[] = [];
    const size = 10; // the upstream windows' size: the generated combine reads start as end − size
    const j = new WindowJoin<Row, Row, string>(
      CARRIED,
      { leftKey: (l) => l.k, rightKey: (r) => r.k, match: () => true, combine: (l, r, _s, e) => `[${e - size},${e}) ${l.n}-${r.n}` },
      (x) => out.push(x),
      () => {},
      () => {},
    );
    j.pushLeft({ k: "a", n: 1 }, 9);
    j.pushRight({ k: "a", n: 2 }, 9);
    j.pushRight({ k: "a", n: 3 }, 19); // the next window
    j.advance(Infinity);
    expect(out).toEqual(["[0,10) 1-2"]);
  });
});
