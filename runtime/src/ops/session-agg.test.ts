import { describe, expect, it } from "vitest";
import { SessionAgg } from "./session-agg";
import { aggSpec, driveOne, expectedLines, line, readJsonl, rng, withTimes } from "./testdata/harness";

type Row = Record<string, any>;

function collect() {
  const rows: Row[] = [];
  const times: number[] = [];
  const late: Row[] = [];
  return {
    rows,
    times,
    late,
    emit: (r: Row, t: number) => {
      rows.push(r);
      times.push(t);
    },
    onLate: (r: Row) => {
      late.push(r);
    },
  };
}

const sorted = (a: string[]) => [...a].sort();

describe("SessionAgg", () => {
  it("c06: sessions per user with count, first, last", () => {
    const c = collect();
    const spec = aggSpec<Row>(
      { user: (r) => r.user },
      { clicks: { fn: "count" }, first_page: { fn: "first", of: (r) => r.page }, last_page: { fn: "last", of: (r) => r.page } },
    );
    const op = new SessionAgg(30_000, spec, c.emit, c.onLate);
    const clicks = readJsonl("c06_session", "clicks.jsonl").map((r) => withTimes(r, "ts"));
    driveOne(clicks, "ts", 0, op);
    expect(sorted(c.rows.map((r) => line(r)))).toEqual(sorted(expectedLines("c06_session")));
    // fired in order of session end, each with time end - 1
    for (let i = 1; i < c.rows.length; i++) expect(c.rows[i]!.window_end).toBeGreaterThanOrEqual(c.rows[i - 1]!.window_end);
    c.rows.forEach((r, i) => expect(c.times[i]).toBe(r.window_end - 1));
    expect(c.late).toEqual([]);
    expect(op.openSessions).toBe(0);
  });

  const peer: [string, string, number, number, Record<string, (r: Row) => unknown>, Record<string, any>][] = [
    ["ksql_sess_count", "data.jsonl", 86_400_000, 5001, { user_id: (r) => r.user_id }, { count: { fn: "count", of: (r: Row) => r.user_id } }],
    ["ksql_sess_decimal_key_count", "input.jsonl", 86_400_000, 30_001, { a: (r) => r.a }, { count: { fn: "count" } }],
    ["ksql_sess_earliest_merge", "input.jsonl", 86_400_000, 1001, { id: (r) => r.id }, { l0: { fn: "first", of: (r: Row) => r.f0 } }],
    ["ksql_sess_latest_merge", "input.jsonl", 86_400_000, 1001, { id: (r) => r.id }, { l0: { fn: "last", of: (r: Row) => r.f0 } }],
    ["ksql_sess_latest_merge_nulls", "input.jsonl", 86_400_000, 1001, { id: (r) => r.id }, { l0: { fn: "last", of: (r: Row) => r.f0 } }],
    ["ksql_sess_latest_merge_nulls_2", "input.jsonl", 86_400_000, 1001, { id: (r) => r.id }, { l0: { fn: "last", of: (r: Row) => r.f0 } }],
    ["ksql_sess_max_grace", "test.jsonl", 60_000, 30_001, { id: (r) => r.id }, { ksql_col_0: { fn: "max", of: (r: Row) => r.value } }],
    ["ksql_sess_max_out_of_order", "test.jsonl", 86_400_000, 30_001, { id: (r) => r.id }, { ksql_col_0: { fn: "max", of: (r: Row) => r.value } }],
  ];
  for (const [dir, file, delay, gap, keys, aggs] of peer) {
    for (const merge of [false, true]) {
      it(`peer ${dir}${merge ? " (incremental when order-insensitive)" : " (buffered)"}`, () => {
        const c = collect();
        const op = new SessionAgg(gap, aggSpec<Row>(keys, aggs, { merge }), c.emit, c.onLate);
        driveOne(readJsonl(dir, file), "ts", delay, op);
        expect(sorted(c.rows.map((r) => line(r)))).toEqual(sorted(expectedLines(dir)));
      });
    }
  }

  it("peer bounds_session: window bounds", () => {
    const c = collect();
    const op = new SessionAgg(30_001, aggSpec<Row>({ id: (r) => r.id }, { count: { fn: "count" } }), c.emit, c.onLate);
    driveOne(readJsonl("ksql_bounds_session", "test.jsonl"), "ts", 86_400_000, op);
    const got = c.rows.map((r) =>
      line({ window_start: r.window_start, window_end: r.window_end, id: r.id, wstart: r.window_start, wend: r.window_end - 30_001, count: r.count }),
    );
    expect(sorted(got)).toEqual(sorted(expectedLines("ksql_bounds_session")));
  });

  it("sess_max_grace drops the records past the boundary (10009 for both keys, then 60000 after the 1-day jump)", () => {
    const c = collect();
    const op = new SessionAgg(30_001, aggSpec<Row>({ id: (r) => r.id }, { m: { fn: "max", of: (r) => r.value } }), c.emit, c.onLate);
    driveOne(readJsonl("ksql_sess_max_grace", "test.jsonl"), "ts", 60_000, op);
    expect(c.late.map((r) => `${r.id}@${r.ts}`)).toEqual(["0@10009", "1@10009", "1@60000"]);
  });

  it("a bridging record merges several sessions; rows aggregate in arrival order", () => {
    const c = collect();
    const spec = aggSpec<Row>({ k: (r) => r.k }, { vs: { fn: "collect", of: (r) => r.v }, f: { fn: "first", of: (r) => r.v } });
    const op = new SessionAgg(10, spec, c.emit, c.onLate);
    op.push({ k: 1, v: "a" }, 0); // [0, 10)
    op.push({ k: 1, v: "b" }, 40); // [40, 50)
    op.push({ k: 1, v: "c" }, 20); // [20, 30)
    op.push({ k: 1, v: "d" }, 45); // [40, 55)
    op.push({ k: 1, v: "e" }, 5); // [0, 15)
    op.push({ k: 1, v: "f" }, 12); // [12, 22) bridges [0,15) and [20,30) → [0, 30)
    op.push({ k: 1, v: "g" }, 31); // [31, 41) bridges [0,30)? no (31 ≥ 30); bridges [40,55): → [31, 55)
    op.push({ k: 1, v: "h" }, 25); // [25, 35) bridges [0,30) and [31,55) → [0, 55)
    op.advance(Infinity);
    expect(c.rows).toEqual([{ window_start: 0, window_end: 55, k: 1, vs: ["a", "b", "c", "d", "e", "f", "g", "h"], f: "a" }]);
  });

  it("late only when the merged session ends at or before the watermark", () => {
    const c = collect();
    const op = new SessionAgg(100, aggSpec<Row>({}, { n: { fn: "count" } }), c.emit, c.onLate);
    op.push({}, 100); // [100, 200)
    op.advance(150);
    op.push({ x: 1 }, 60); // [60, 160) overlaps the open session → [60, 200), not late
    op.push({ x: 2 }, 0); // [0, 100) ends ≤ 150 but overlaps [60, 200) → [0, 200), not late
    op.push({ x: 3 }, -100); // [-100, 0) ends ≤ 150 and only touches [0, 200) → late
    expect(c.late).toEqual([{ x: 3 }]);
    op.advance(Infinity);
    expect(c.rows).toEqual([{ window_start: 0, window_end: 200, n: 3 }]);
  });

  it("touching sessions do not merge (strict)", () => {
    const c = collect();
    const op = new SessionAgg(10, aggSpec<Row>({}, { n: { fn: "count" } }), c.emit, c.onLate);
    op.push({}, 0);
    op.push({}, 10);
    op.push({}, 20);
    op.advance(Infinity);
    expect(c.rows.map((r) => [r.window_start, r.window_end, r.n])).toEqual([
      [0, 10, 1],
      [10, 20, 1],
      [20, 30, 1],
    ]);
  });

  it("sessions ending together fire in the order their keys were first seen in them", () => {
    const c = collect();
    const op = new SessionAgg(10, aggSpec<Row>({ k: (r) => r.k }, { n: { fn: "count" } }), c.emit, c.onLate);
    op.push({ k: "b" }, 5); // [5, 15)
    op.push({ k: "a" }, 0); // [0, 10)
    op.push({ k: "a" }, 5); // [0, 15)
    op.push({ k: "c" }, 2); // [2, 12)
    op.advance(Infinity);
    expect(c.rows.map((r) => r.k)).toEqual(["c", "b", "a"]);

    const d = collect();
    const op2 = new SessionAgg(10, aggSpec<Row>({ k: (r) => r.k }, { n: { fn: "count" } }), d.emit, d.onLate);
    op2.push({ k: "a" }, 0); // [0, 10), first seen
    op2.push({ k: "b" }, 5); // [5, 15)
    op2.push({ k: "a" }, 5); // a grows to [0, 15): requeued after b, still fires first
    op2.advance(Infinity);
    expect(d.rows.map((r) => r.k)).toEqual(["a", "b"]);
  });

  it("buffered and incremental modes agree on random out-of-order data (seeded)", () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rand = rng(seed);
      const gap = 5 + Math.floor(rand() * 50);
      const delay = Math.floor(rand() * 100);
      const records: Row[] = [];
      let base = 0;
      for (let i = 0; i < 300; i++) {
        base += Math.floor(rand() * 12);
        records.push({ k: Math.floor(rand() * 4), v: Math.floor(rand() * 1000), t: base - Math.floor(rand() * 150) });
      }
      const run = (merge: boolean) => {
        const c = collect();
        const spec = aggSpec<Row>({ k: (r) => r.k }, { n: { fn: "count" }, s: { fn: "sum", of: (r) => r.v }, hi: { fn: "max", of: (r) => r.v } }, { merge });
        const op = new SessionAgg(gap, spec, c.emit, c.onLate);
        driveOne(records, "t", delay, op);
        return { out: c.rows.map((r, i) => line(r) + "@" + c.times[i]), late: c.late.length };
      };
      const a = run(true);
      expect(a).toEqual(run(false));
      expect(a.out.length).toBeGreaterThan(0);
    }
  });

  it("matches a brute-force reference (union of [t, t + gap) per key) when nothing is late", () => {
    for (let seed = 100; seed < 130; seed++) {
      const rand = rng(seed);
      const gap = 5 + Math.floor(rand() * 40);
      const records: Row[] = [];
      for (let i = 0; i < 200; i++) records.push({ k: Math.floor(rand() * 3), v: i, t: Math.floor(rand() * 2000) - 500 });
      const c = collect();
      const op = new SessionAgg(gap, aggSpec<Row>({ k: (r) => r.k }, { n: { fn: "count" }, vs: { fn: "collect", of: (r) => r.v } }), c.emit, c.onLate);
      for (const r of records) op.push(r, r.t);
      op.advance(Infinity);
      const ref: string[] = [];
      for (const k of [0, 1, 2]) {
        const mine = records.filter((r) => r.k === k).sort((x, y) => x.t - y.t);
        let cur: { s: number; e: number; vs: number[] } | null = null;
        const flush = () => {
          if (cur) ref.push(JSON.stringify([cur.s, cur.e, k, [...cur.vs].sort((x, y) => x - y)]));
        };
        for (const r of mine) {
          if (cur && r.t < cur.e) {
            cur.e = Math.max(cur.e, r.t + gap);
            cur.vs.push(r.v);
          } else {
            flush();
            cur = { s: r.t, e: r.t + gap, vs: [r.v] };
          }
        }
        flush();
      }
      const got = c.rows.map((r) => JSON.stringify([r.window_start, r.window_end, r.k, r.vs]));
      expect(sorted(got)).toEqual(sorted(ref));
      // arrival order inside each session: v is the arrival index
      for (const r of c.rows) expect(r.vs).toEqual([...r.vs].sort((x: number, y: number) => x - y));
    }
  });
});
