import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { Rolling, type RollingCallSpec, type RollingSpec } from "./rolling";
import { driveOne, expectedLines, line, readJsonl, withTimes } from "./testdata/harness";

type Row = Record<string, any>;

/** A spec standing in for generated code: records { k, v, w }, values [v, w], results named. */
function spec(names: string[], key: (r: Row) => any = (r) => r.k): RollingSpec<Row, Row> {
  return {
    key,
    values: (r) => [r.v ?? null, r.w ?? null],
    result: (r, a) => {
      const out: Row = { ...r };
      names.forEach((n, i) => (out[n] = a[i]));
      return out;
    },
  };
}

function collect(calls: RollingCallSpec[], names: string[]) {
  const rows: Row[] = [];
  const times: number[] = [];
  const late: Row[] = [];
  const op = new Rolling(calls, spec(names), (r, t) => (rows.push(r), times.push(t)), (r) => late.push(r));
  return { op, rows, times, late };
}

describe("Rolling", () => {
  it("c39: avg, max and count over 5m per sensor, in event-time order whatever the arrival order", () => {
    const readings = readJsonl("c39_rolling_over_5m", "readings.jsonl").map((r) => withTimes(r, "ts"));
    const out: string[] = [];
    const op = new Rolling<Row, Row>(
      [{ fn: "avg", range: 300_000, arg: 0 }, { fn: "max", range: 300_000, arg: 0 }, { fn: "count_expr", range: 300_000, arg: 0 }],
      { key: (r) => r.sensor, values: (r) => [r.v], result: (r, a) => ({ sensor: r.sensor, ts: r.ts, v: r.v, avg5m: a[0], hi5m: a[1], n5m: a[2] }) },
      (r) => out.push(line(r, ["ts"])),
      () => expect.unreachable("no record is late"),
    );
    driveOne(readings, "ts", 20_000, op);
    expect(out).toEqual(expectedLines("c39_rolling_over_5m"));
  });

  it("c40: avg over 3 rows and lag(v), lag(v, 2)", () => {
    const readings = readJsonl("c40_rolling_rows_lag", "readings.jsonl").map((r) => withTimes(r, "ts"));
    const out: string[] = [];
    const op = new Rolling<Row, Row>(
      [{ fn: "avg", rows: 3, arg: 0 }, { fn: "lag", back: 1, arg: 0 }, { fn: "lag", back: 2, arg: 0 }],
      { key: (r) => r.sensor, values: (r) => [r.v], result: (r, a) => ({ sensor: r.sensor, ts: r.ts, v: r.v, avg3: a[0], prev: a[1], prev2: a[2], jump: r.v - ((a[1] as number | null) ?? r.v) }) },
      (r) => out.push(line(r, ["ts"])),
      () => expect.unreachable("no record is late"),
    );
    driveOne(readings, "ts", 30_000, op);
    expect(out).toEqual(expectedLines("c40_rolling_rows_lag"));
  });

  it("buffers a record until the watermark exceeds its time; one at the watermark is not late", () => {
    const { op, rows, times, late } = collect([{ fn: "count", range: 10 }], ["n"]);
    op.push({ k: "a", v: 1 }, 5);
    op.advance(5);
    expect(rows).toEqual([]); // 5 < 5 is false: still waiting
    op.push({ k: "a", v: 2 }, 5); // time = watermark: not late
    op.push({ k: "a", v: 3 }, 4); // below the watermark: late
    expect(late).toEqual([{ k: "a", v: 3 }]);
    op.advance(6);
    expect(rows.map((r) => [r.v, r.n])).toEqual([[1, 1], [2, 2]]);
    expect(times).toEqual([5, 5]);
    expect(op.buffered).toBe(0);
  });

  it("orders by time, ties by arrival, across keys", () => {
    const { op, rows } = collect([{ fn: "count", rows: 10 }], ["n"]);
    op.push({ k: "b", v: 1 }, 20);
    op.push({ k: "a", v: 2 }, 10);
    op.push({ k: "a", v: 3 }, 20);
    op.push({ k: "a", v: 4 }, 10);
    op.advance(Infinity);
    expect(rows.map((r) => [r.k, r.v, r.n])).toEqual([["a", 2, 1], ["a", 4, 2], ["b", 1, 1], ["a", 3, 3]]);
  });

  it("a time range holds records with time > t − range; equal times all stay", () => {
    const { op, rows } = collect([{ fn: "sum", range: 10, arg: 0 }, { fn: "first", range: 10, arg: 0 }], ["s", "f"]);
    for (const [v, t] of [[1, 0], [2, 5], [4, 10], [8, 10], [16, 20]]) op.push({ k: "a", v }, t!);
    op.advance(Infinity);
    // at 10: 0 is out (0 ≤ 10 − 10), at 20: both records at 10 are out
    expect(rows.map((r) => [r.s, r.f])).toEqual([[1, 1], [3, 1], [6, 2], [14, 2], [16, 16]]);
  });

  it("skips nulls like `agg` (count() counts records); lag returns the value, null or not", () => {
    const calls: RollingCallSpec[] = [
      { fn: "count", rows: 3 }, { fn: "count_expr", rows: 3, arg: 0 }, { fn: "sum", rows: 3, arg: 0 }, { fn: "avg", rows: 3, arg: 0 },
      { fn: "min", rows: 3, arg: 0 }, { fn: "first", rows: 3, arg: 0 }, { fn: "last", rows: 3, arg: 0 }, { fn: "lag", back: 1, arg: 0 },
    ];
    const { op, rows } = collect(calls, ["n", "nv", "s", "a", "lo", "f", "l", "prev"]);
    [5, null, null, null, 7].forEach((v, i) => op.push({ k: "a", v }, i));
    op.advance(Infinity);
    const pick = (r: Row) => [r.n, r.nv, r.s, r.a, r.lo, r.f, r.l, r.prev];
    expect(rows.map(pick)).toEqual([
      [1, 1, 5, 5, 5, 5, 5, null],
      [2, 1, 5, 5, 5, 5, 5, 5],
      [3, 1, 5, 5, 5, 5, 5, null],
      [3, 0, null, null, null, null, null, null],
      [3, 1, 7, 7, 7, 7, 7, null],
    ]);
  });

  it("max_by / min_by give the value of the first record with the extreme key", () => {
    const { op, rows } = collect([{ fn: "max_by", rows: 4, arg: 0, by: 1 }, { fn: "min_by", rows: 4, arg: 0, by: 1 }], ["hi", "lo"]);
    const input: [string, number][] = [["p", 5], ["q", 7], ["r", 7], ["s", 3], ["t", 1], ["u", 1]];
    input.forEach(([v, w], i) => op.push({ k: "a", v, w }, i));
    op.advance(Infinity);
    expect(rows.map((r) => [r.hi, r.lo])).toEqual([["p", "p"], ["q", "p"], ["q", "p"], ["q", "s"], ["q", "t"], ["r", "t"]]);
  });

  it("count_distinct, percentile (nearest rank) and collect forget what leaves the frame", () => {
    const { op, rows } = collect([{ fn: "count_distinct", rows: 3, arg: 0 }, { fn: "percentile", rows: 3, arg: 0, p: 0.5 }, { fn: "collect", rows: 3, arg: 0 }], ["d", "med", "all"]);
    [4, 4, 1, 9, 9].forEach((v, i) => op.push({ k: "a", v }, i));
    op.advance(Infinity);
    expect(rows.map((r) => [r.d, r.med, r.all])).toEqual([[1, 4, [4]], [1, 4, [4, 4]], [2, 4, [4, 4, 1]], [3, 4, [4, 1, 9]], [2, 9, [1, 9, 9]]]);
  });

  it("a float sum does not keep the rounding of a large value that left the range", () => {
    const { op, rows } = collect([{ fn: "sum", rows: 2, arg: 0 }], ["s"]);
    [1e20, 0.5, 0.25, 0.125].forEach((v, i) => op.push({ k: "a", v }, i));
    op.advance(Infinity);
    expect(rows.map((r) => r.s)).toEqual([1e20, 1e20 + 0.5, 0.75, 0.375]);
  });

  it("memory is bounded by the frames: rows and lag keep N records per key", () => {
    const { op } = collect([{ fn: "avg", rows: 3, arg: 0 }, { fn: "lag", back: 5, arg: 0 }], ["a", "p"]);
    for (let i = 0; i < 1000; i++) {
      op.push({ k: i % 2, v: i }, i);
      op.advance(i);
    }
    expect(op.retained).toBe(2 * 5); // per key: the 5 latest records (the next record's lag 5 reads the oldest)
  });

  it("a key whose range has passed is dropped (every call a time range)", () => {
    const { op, rows } = collect([{ fn: "count", range: 100 }], ["n"]);
    for (let i = 0; i < 5000; i++) {
      op.push({ k: `key${i}`, v: i }, i);
      op.advance(i - 10);
    }
    expect(op.keys).toBeLessThanOrEqual(1024); // swept once the map grows past 1024 keys: never all 5000
    op.push({ k: "key0", v: 0 }, 5000); // a key seen long ago starts again
    op.advance(Infinity);
    expect(rows.at(-1)).toEqual({ k: "key0", v: 0, n: 1 });
    expect(op.keys).toBe(0);
  });

  it("keys stay with rows or lag: their last records are read by the next record whenever it comes", () => {
    const { op, rows } = collect([{ fn: "lag", back: 1, arg: 0 }], ["p"]);
    for (let i = 0; i < 3000; i++) {
      op.push({ k: `key${i % 1500}`, v: i }, i * 1000);
      op.advance(i * 1000 - 1);
    }
    op.advance(Infinity);
    expect(rows.at(-1)).toEqual({ k: "key1499", v: 2999, p: 1499 });
  });

  it("refuses a call without exactly one positive frame", () => {
    const s = spec(["x"]);
    expect(() => new Rolling([{ fn: "sum", arg: 0 }], s, () => {}, () => {})).toThrow(RangeError);
    expect(() => new Rolling([{ fn: "sum", range: 5, rows: 2, arg: 0 }], s, () => {}, () => {})).toThrow(RangeError);
    expect(() => new Rolling([{ fn: "lag", back: 0, arg: 0 }], s, () => {}, () => {})).toThrow(RangeError);
  });

  it("a row whose result fails (undefined) is dropped; the others are emitted", () => {
    const rows: Row[] = [];
    const op = new Rolling<Row, Row>([{ fn: "count", rows: 2 }], { key: () => 0, values: () => [], result: (r, a) => (r.v === 2 ? undefined : { v: r.v, n: a[0] }) }, (r) => rows.push(r), () => {});
    [1, 2, 3].forEach((v) => op.push({ v }, v));
    op.advance(Infinity);
    expect(rows).toEqual([{ v: 1, n: 1 }, { v: 3, n: 2 }]);
  });
});

// ---- brute force ------------------------------------------------------------------------------

interface Rec {
  k: string;
  v: number | null;
  w: number | null;
  t: number;
}

/** Every call recomputed from scratch over the key's records before it in (time, arrival) order. */
function bruteForce(records: Rec[], calls: RollingCallSpec[]): unknown[][] {
  const order = records.map((r, i) => ({ r, i })).sort((a, b) => a.r.t - b.r.t || a.i - b.i).map((x) => x.r);
  return order.map((r, i) => {
    const prior = order.slice(0, i + 1).filter((x) => x.k === r.k);
    const res = calls.map((c) => {
      if (c.fn === "lag") {
        const x = prior[prior.length - 1 - c.back!];
        return x === undefined ? null : x.v;
      }
      const frame = c.range !== undefined ? prior.filter((x) => x.t > r.t - c.range!) : prior.slice(-c.rows!);
      const vs = frame.map((x) => x.v).filter((v): v is number => v !== null);
      switch (c.fn) {
        case "count":
          return frame.length;
        case "count_expr":
          return vs.length;
        case "sum":
          return vs.length ? vs.reduce((a, b) => a + b, 0) : null;
        case "avg":
          return vs.length ? vs.reduce((a, b) => a + b, 0) / vs.length : null;
        case "min":
          return vs.length ? Math.min(...vs) : null;
        case "max":
          return vs.length ? Math.max(...vs) : null;
        case "first":
          return vs[0] ?? null;
        case "last":
          return vs.at(-1) ?? null;
        case "count_distinct":
          return new Set(vs).size;
        case "collect":
          return vs.length ? vs : null;
        case "percentile": {
          const s = [...vs].sort((a, b) => a - b);
          if (!s.length) return null;
          const n = s.length, p = c.p!;
          let k = Math.ceil(p * n);
          while (k > 1 && (k - 1) / n >= p) k--;
          while (k < n && k / n < p) k++;
          return s[Math.max(k, 1) - 1];
        }
        case "max_by":
        case "min_by": {
          let best: Rec | undefined;
          for (const x of frame) {
            if (x.w === null) continue;
            if (best === undefined || (c.fn === "max_by" ? x.w > best.w! : x.w < best.w!)) best = x;
          }
          return best === undefined ? null : best.v;
        }
      }
    });
    return [r.k, r.v, r.t, ...res];
  });
}

const FNS = ["count", "count_expr", "sum", "avg", "min", "max", "first", "last", "count_distinct", "collect", "percentile", "max_by", "min_by"] as const;

const callArb: fc.Arbitrary<RollingCallSpec> = fc.oneof(
  fc.record({ fn: fc.constantFrom(...FNS), frame: fc.oneof(fc.record({ range: fc.integer({ min: 1, max: 40 }) }), fc.record({ rows: fc.integer({ min: 1, max: 6 }) })), p: fc.constantFrom(0, 0.25, 0.5, 0.9, 1) }).map(({ fn, frame, p }) => ({
    fn,
    ...frame,
    ...(fn === "count" ? {} : { arg: 0 }),
    ...(fn === "max_by" || fn === "min_by" ? { by: 1 } : {}),
    ...(fn === "percentile" ? { p } : {}),
  })),
  fc.integer({ min: 1, max: 4 }).map((back): RollingCallSpec => ({ fn: "lag", back, arg: 0 })),
);

describe("Rolling equals a brute force over the input sorted by (time, arrival)", () => {
  it("for random disorder within the watermark delay, and late records left out", () => {
    const DELAY = 8;
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            k: fc.constantFrom("a", "b", "c"),
            v: fc.option(fc.integer({ min: -20, max: 20 }), { freq: 5 }),
            w: fc.option(fc.integer({ min: 0, max: 5 }), { freq: 5 }),
            step: fc.integer({ min: 0, max: 4 }),
            back: fc.integer({ min: 0, max: DELAY + 3 }), // beyond DELAY: sometimes late
          }),
          { maxLength: 60 },
        ),
        fc.array(callArb, { minLength: 1, maxLength: 5 }),
        (gen, calls) => {
          // Arrival order: a rising clock; each record is `back` behind it (disorder).
          let clock = 0;
          const input: Rec[] = gen.map((g) => ({ k: g.k, v: g.v, w: g.w, t: (clock += g.step) - g.back }));
          const got: unknown[][] = [];
          const late: Rec[] = [];
          const op = new Rolling<Rec, unknown[]>(calls, { key: (r) => r.k, values: (r) => [r.v, r.w], result: (r, a) => [r.k, r.v, r.t, ...a] }, (row) => got.push(row), (r) => late.push(r));
          // The source's watermark, as the runtime computes it (largest time − delay).
          let max = -Infinity;
          const onTime: Rec[] = [];
          for (const r of input) {
            op.push(r, r.t);
            if (r.t >= max - DELAY) onTime.push(r);
            if (r.t > max) {
              max = r.t;
              op.advance(max - DELAY);
            }
          }
          op.advance(Infinity);
          expect(late).toEqual(input.filter((r) => !onTime.includes(r)));
          expect(got).toEqual(bruteForce(onTime, calls));
          expect(op.keys).toBe(0);
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 300) },
    );
  });
});
