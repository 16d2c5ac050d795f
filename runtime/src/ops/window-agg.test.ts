import { describe, expect, it } from "vitest";
import { WindowAgg } from "./window-agg";
import { WindowTop } from "./window-top";
import type { AggSpec } from "./types";
import { CARRIED } from "./windows";
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

const bids = (dir: string) => readJsonl(dir, "bids.jsonl").map((r) => withTimes(r, "dateTime"));

describe("WindowAgg tumbling", () => {
  it("c04: counts, sums, avg, min, max per channel in 10s windows (exact order)", () => {
    const c = collect();
    const spec = aggSpec<Row>(
      { channel: (r) => r.channel },
      {
        n: { fn: "count" },
        total: { fn: "sum", of: (r) => r.price },
        avg_price: { fn: "avg", of: (r) => r.price },
        lo: { fn: "min", of: (r) => r.price },
        hi: { fn: "max", of: (r) => r.price },
      },
    );
    const op = new WindowAgg({ kind: "tumbling", size: 10_000 }, spec, c.emit, c.onLate);
    driveOne(bids("c04_tumbling_agg"), "dateTime", 4000, op);
    expect(c.rows.map((r) => line(r))).toEqual(expectedLines("c04_tumbling_agg"));
    expect(c.late).toEqual([]);
    // derived rows carry window_end - 1
    c.rows.forEach((r, i) => expect(c.times[i]).toBe(r.window_end - 1));
    expect(op.openWindows).toBe(0);
  });

  it("c07: late records are dropped (3) and reported", () => {
    const c = collect();
    const spec = aggSpec<Row>({}, { n: { fn: "count" }, total: { fn: "sum", of: (r) => r.price } });
    const op = new WindowAgg({ kind: "tumbling", size: 5000 }, spec, c.emit, c.onLate);
    driveOne(bids("c07_late_records"), "dateTime", 2000, op);
    expect(c.rows.map((r) => line(r))).toEqual(expectedLines("c07_late_records"));
    expect(c.late.length).toBe(3);
  });

  it("c20: count_distinct, max_by, first, last, collect (arrival order)", () => {
    const c = collect();
    const spec = aggSpec<Row>(
      { auction: (r) => r.auction },
      {
        bidders: { fn: "count_distinct", of: (r) => r.bidder },
        best_bidder: { fn: "max_by", of: (r) => r.bidder, by: (r) => r.price },
        first_price: { fn: "first", of: (r) => r.price },
        last_price: { fn: "last", of: (r) => r.price },
        prices: { fn: "collect", of: (r) => r.price },
      },
    );
    const op = new WindowAgg({ kind: "tumbling", size: 10_000 }, spec, c.emit, c.onLate);
    driveOne(bids("c20_rich_aggregates"), "dateTime", 1000, op);
    expect(c.rows.map((r) => line(r))).toEqual(expectedLines("c20_rich_aggregates"));
  });

  it("c21: re-windowing derived rows (1m counts → 1h sums) loses nothing", () => {
    const c = collect();
    const events = readJsonl("c21_rewindow_derived_rows", "events.jsonl").map((r) => withTimes(r, "ts"));
    const hourly = new WindowAgg(
      { kind: "tumbling", size: 3_600_000 },
      aggSpec<Row>({ svc: (r) => r.svc }, { n: { fn: "sum", of: (r) => r.n } }),
      c.emit,
      c.onLate,
    );
    const lateFirst: Row[] = [];
    const perMinute = new WindowAgg(
      { kind: "tumbling", size: 60_000 },
      aggSpec<Row>({ svc: (r) => r.svc }, { n: { fn: "count" } }),
      (row: Row, t) => {
        expect(t).toBe(row.window_end - 1);
        hourly.push(row, t);
      },
      (r) => lateFirst.push(r),
    );
    driveOne(events, "ts", 0, perMinute, hourly);
    expect(c.late).toEqual([]);
    expect(c.rows.map((r) => line(r))).toEqual(expectedLines("c21_rewindow_derived_rows"));
    const total = c.rows.reduce((a, r) => a + r.n, 0);
    expect(total).toBe(events.length - lateFirst.length);
  });

  it("aligns windows to the epoch with floor for negative times", () => {
    const c = collect();
    const op = new WindowAgg({ kind: "tumbling", size: 1000 }, aggSpec<Row>({}, { n: { fn: "count" } }), c.emit, c.onLate);
    for (const t of [-1500, -1001, -1000, -1, 0, 999]) op.push({ t }, t);
    op.advance(Infinity);
    expect(c.rows).toEqual([
      { window_start: -2000, window_end: -1000, n: 2 },
      { window_start: -1000, window_end: 0, n: 2 },
      { window_start: 0, window_end: 1000, n: 2 },
    ]);
  });

  it("orders keys by first appearance within each window and windows by end even when pushed out of order", () => {
    const c = collect();
    const op = new WindowAgg({ kind: "tumbling", size: 10 }, aggSpec<Row>({ k: (r) => r.k }, { n: { fn: "count" } }), c.emit, c.onLate);
    op.push({ k: "b" }, 25);
    op.push({ k: "a" }, 5);
    op.push({ k: "c" }, 15);
    op.push({ k: "a" }, 27);
    op.push({ k: "b" }, 3);
    op.advance(20);
    expect(c.rows.map((r) => `${r.window_start}:${r.k}`)).toEqual(["0:a", "0:b", "10:c"]);
    op.push({ k: "x" }, 19); // its only window [10, 20) has fired: late
    expect(c.late).toEqual([{ k: "x" }]);
    op.advance(Infinity);
    expect(c.rows.map((r) => `${r.window_start}:${r.k}`)).toEqual(["0:a", "0:b", "10:c", "20:b", "20:a"]);
  });

  it("keeps only open windows in memory (1M records)", () => {
    let fired = 0;
    let total = 0;
    const spec: AggSpec<number, { k: number; n: number }, number> = {
      key: (r) => r % 4,
      init: (r) => ({ k: r % 4, n: 0 }),
      add: (s) => {
        s.n++;
      },
      result: (s) => s.n,
    };
    const op = new WindowAgg(
      { kind: "tumbling", size: 1000 },
      spec,
      (n) => {
        fired++;
        total += n;
      },
      () => {
        throw new Error("late");
      },
    );
    let maxOpen = 0;
    const groups = new Set<number>();
    for (let i = 0; i < 1_000_000; i++) {
      const t = i * 3 + ((i * 7919) % 1500); // out of order by up to 1.5s
      groups.add(Math.floor(t / 1000) * 4 + (i % 4));
      op.push(i, t);
      if (i % 1000 === 0) {
        op.advance(i * 3 - 1500);
        if (op.openWindows > maxOpen) maxOpen = op.openWindows;
      }
    }
    expect(maxOpen).toBeLessThanOrEqual(8);
    op.advance(Infinity);
    expect(op.openWindows).toBe(0);
    expect(total).toBe(1_000_000);
    expect(fired).toBe(groups.size);
  });
});

describe("WindowAgg hop", () => {
  const hopCases = [
    ["ksql_win_hopping_max_out_of_order", "test.jsonl", 86_400_000, 30_000, 15_000, "max", "ksql_col_0", "id"],
    ["ksql_win_hopping_max_grace", "test.jsonl", 60_000, 30_000, 15_000, "max", "ksql_col_0", "id"],
    ["ksql_win_hopping_min", "test.jsonl", 86_400_000, 30_000, 10_000, "min", "ksql_col_0", "id"],
    ["ksql_win_hopping_count", "test.jsonl", 86_400_000, 5000, 1000, "count", "count", "id"],
    ["ksql_win_hopping_decimal_key_count", "input.jsonl", 86_400_000, 30_000, 15_000, "count", "count", "a"],
  ] as const;
  for (const [dir, file, delay, size, slide, fn, name, key] of hopCases) {
    for (const merge of [true, false]) {
      it(`peer ${dir} (${merge ? "panes" : "per-window"})`, () => {
        const c = collect();
        const agg = fn === "count" ? { fn } : { fn, of: (r: Row) => r.value };
        const spec = aggSpec<Row>({ [key]: (r) => r[key] }, { [name]: agg as any }, { merge });
        const op = new WindowAgg({ kind: "hop", size, slide }, spec, c.emit, c.onLate);
        driveOne(readJsonl(dir, file), "ts", delay, op);
        const got = c.rows.filter((r) => r.window_start >= 0).map((r) => line(r));
        expect([...got].sort()).toEqual([...expectedLines(dir)].sort());
      });
    }
  }

  it("c05: hop(10s, 2s) counts then top 1 by num desc over the carried windows", () => {
    for (const merge of [true, false]) {
      const c = collect();
      const top = new WindowTop<Row>(
        CARRIED, // the rows' own windows: tumbling(1 ms) over time = window_end − 1
        1,
        false,
        { key: () => null, compare: (a, b) => b.num - a.num },
        c.emit,
        c.onLate,
      );
      const counts = new WindowAgg(
        { kind: "hop", size: 10_000, slide: 2000 },
        aggSpec<Row>({ auction: (r) => r.auction }, { num: { fn: "count" } }, { merge }),
        (r, t) => top.push(r, t),
        c.onLate,
      );
      driveOne(bids("c05_hop_top"), "dateTime", 0, counts, top);
      expect(c.rows.map((r) => line(r))).toEqual(expectedLines("c05_hop_top"));
      c.rows.forEach((r, i) => expect(c.times[i]).toBe(r.window_end - 1));
      expect(c.late).toEqual([]);
    }
  });

  it("gives identical results with and without merge on random out-of-order data (seeded)", () => {
    for (let seed = 1; seed <= 40; seed++) {
      const rand = rng(seed);
      const slide = [1, 2, 3, 5][Math.floor(rand() * 4)]! * 100;
      const size = slide * (1 + Math.floor(rand() * 6)) + (rand() < 0.3 ? 100 : 0);
      const delay = Math.floor(rand() * 800);
      const records: Row[] = [];
      let base = Math.floor(rand() * 4000) - 2000; // negative times too
      for (let i = 0; i < 400; i++) {
        base += Math.floor(rand() * 30);
        const t = base - Math.floor(rand() * 1000); // up to 1s out of order: some are late
        records.push({ k: "k" + Math.floor(rand() * 5), v: Math.floor(rand() * 100) - 50, t });
      }
      const run = (merge: boolean) => {
        const c = collect();
        const spec = aggSpec<Row>(
          { k: (r) => r.k },
          { n: { fn: "count" }, s: { fn: "sum", of: (r) => r.v }, lo: { fn: "min", of: (r) => r.v }, hi: { fn: "max", of: (r) => r.v } },
          { merge },
        );
        const op = new WindowAgg({ kind: "hop", size, slide }, spec, c.emit, c.onLate);
        driveOne(records, "t", delay, op);
        return { out: c.rows.map((r, i) => line(r) + "@" + c.times[i]), late: c.late.length };
      };
      const a = run(true);
      const b = run(false);
      expect(a.out.length).toBeGreaterThan(0);
      expect(a).toEqual(b);
    }
  });

  it("hop panes: a key's order in a window is its first arrival in that window", () => {
    const c = collect();
    const spec = aggSpec<Row>({ k: (r) => r.k }, { n: { fn: "count" } });
    const op = new WindowAgg({ kind: "hop", size: 20, slide: 10 }, spec, c.emit, c.onLate);
    op.push({ k: "a" }, 15); // pane 10
    op.push({ k: "b" }, 5); // pane 0
    op.push({ k: "c" }, 6);
    op.push({ k: "a" }, 7);
    op.advance(Infinity);
    expect(c.rows.map((r) => `${r.window_start}:${r.k}:${r.n}`)).toEqual([
      "-10:b:1",
      "-10:c:1",
      "-10:a:1",
      "0:a:2",
      "0:b:1",
      "0:c:1",
      "10:a:1",
    ]);
  });
});

describe("WindowAgg carried", () => {
  it("aggregates derived rows per carried window: tumbling(1 ms) over time = window_end − 1", () => {
    // The compiler's one encoding (emit.ts windowArg): the op sees [end − 1, end); the generated
    // result reads the original window back as [end − size, end).
    const c = collect();
    const spec = aggSpec<Row>({}, { total: { fn: "sum", of: (r: Row) => r.n } });
    const op = new WindowAgg(CARRIED, spec, c.emit, c.onLate);
    op.push({ we: 10, n: 1 }, 9);
    op.push({ we: 10, n: 3 }, 9);
    op.push({ we: 20, n: 4 }, 19);
    op.advance(10);
    expect(c.rows).toEqual([{ window_start: 9, window_end: 10, total: 4 }]);
    expect(c.times).toEqual([9]);
    op.push({ we: 10, n: 9 }, 9);
    expect(c.late.length).toBe(1);
    op.advance(Infinity);
    expect(c.rows[1]).toEqual({ window_start: 19, window_end: 20, total: 4 });
  });

  it("tumbling: the win_tumbling peer cases", () => {
    const cases = [
      ["ksql_win_tumbling_max_out_of_order", "test.jsonl", 86_400_000, "max", "ksql_col_0", "id"],
      ["ksql_win_tumbling_max_grace", "test.jsonl", 60_000, "max", "ksql_col_0", "id"],
      ["ksql_win_tumbling_min", "test.jsonl", 86_400_000, "min", "ksql_col_0", "id"],
      ["ksql_win_tumbling_decimal_key_count", "input.jsonl", 86_400_000, "count", "count", "a"],
    ] as const;
    for (const [dir, file, delay, fn, name, key] of cases) {
      const c = collect();
      const size = dir.includes("decimal") || dir.includes("min") || dir.includes("max") ? 30_000 : 1000;
      const agg = fn === "count" ? { fn } : { fn, of: (r: Row) => r.value };
      const op = new WindowAgg({ kind: "tumbling", size }, aggSpec<Row>({ [key]: (r) => r[key] }, { [name]: agg as any }), c.emit, c.onLate);
      driveOne(readJsonl(dir, file), "ts", delay, op);
      expect([...c.rows.map((r) => line(r))].sort(), dir).toEqual([...expectedLines(dir)].sort());
    }
  });
});
