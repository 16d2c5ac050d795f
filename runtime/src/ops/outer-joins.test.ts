// Outer, semi and anti joins (LANGUAGE.md §13): OuterIntervalJoin and WindowJoin's other kinds.
// Hand-written cases for each rule, then a property test against a brute-force nested loop over
// the whole input.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { OuterIntervalJoin, type JoinKind, type OuterJoinSpec } from "./interval-join";
import { WindowJoin, type OuterWindowJoinSpec } from "./window-join";
import type { WindowSpec } from "./windows";

interface Rec {
  id: string;
  k: number | null;
  v: number;
}

type Kind = Exclude<JoinKind, "inner">;
const KINDS: Kind[] = ["left", "right", "full", "semi", "anti"];

/** A row as text: `l1+r2`, `l1+_` (padded), `_+r2`; semi and anti joins emit the left id. */
function spec(kind: Kind, match: (l: Rec, r: Rec) => boolean = () => true): OuterJoinSpec<Rec, Rec, string> {
  return {
    leftKey: (l) => l.k,
    rightKey: (r) => r.k,
    match,
    combine: (l, r) => (kind === "semi" || kind === "anti" ? l!.id : `${l?.id ?? "_"}+${r?.id ?? "_"}`),
  };
}

function interval(kind: Kind, lower: number, upper: number, match?: (l: Rec, r: Rec) => boolean) {
  const out: string[] = [];
  const late: string[] = [];
  const j = new OuterIntervalJoin<Rec, Rec, string>(
    kind,
    lower,
    upper,
    spec(kind, match),
    (row, t) => out.push(`${row}@${t}`),
    (l) => late.push(l.id),
    (r) => late.push(r.id),
  );
  return { j, out, late };
}

const rec = (id: string, k: number | null, v = 0): Rec => ({ id, k, v });

describe("OuterIntervalJoin", () => {
  it("left join: pairs as they come; an unmatched left row once the right watermark passes t + B, at t + B", () => {
    const { j, out } = interval("left", 0, 100);
    j.pushLeft(rec("l1", 1), 1000);
    j.pushLeft(rec("l2", 2), 1010);
    j.pushRight(rec("r1", 1), 1050);
    expect(out).toEqual(["l1+r1@1050"]);
    j.advanceRight(1110); // l2's last chance is 1110: not exceeded yet
    expect(out).toEqual(["l1+r1@1050"]);
    j.advanceRight(1111);
    expect(out).toEqual(["l1+r1@1050", "l2+_@1110"]);
    j.advanceLeft(Infinity);
    j.advanceRight(Infinity);
    expect(out).toEqual(["l1+r1@1050", "l2+_@1110"]); // l1 matched: never padded
  });

  it("the left watermark does not release left rows; the release time is max(t, t + B)", () => {
    const { j, out } = interval("left", -100, -10);
    j.pushLeft(rec("l1", 1), 1000);
    j.advanceLeft(5000);
    expect(out).toEqual([]);
    j.advanceRight(991);
    expect(out).toEqual(["l1+_@1000"]); // t + B = 990 < t
  });

  it("right join: an unmatched right row once the left watermark passes t − A, at max(t, t − A)", () => {
    const { j, out } = interval("right", -30, 0);
    j.pushRight(rec("r1", 1), 1000);
    j.pushRight(rec("r2", 2), 1000);
    j.pushLeft(rec("l1", 2), 1020);
    expect(out).toEqual(["l1+r2@1020"]);
    j.advanceRight(5000);
    j.advanceLeft(1030);
    expect(out).toEqual(["l1+r2@1020"]);
    j.advanceLeft(1031);
    expect(out).toEqual(["l1+r2@1020", "_+r1@1030"]);
  });

  it("full join: one advance releases both sides in order of time, then arrival", () => {
    const { j, out } = interval("full", -10, 10);
    j.pushRight(rec("r1", 1), 100); // released at 110
    j.pushLeft(rec("l1", 2), 95); // at 105
    j.pushLeft(rec("l2", 3), 100); // at 110, arrived after r1
    j.pushRight(rec("r2", 4), 90); // at 100
    j.advance(Infinity);
    expect(out).toEqual(["_+r2@100", "l1+_@105", "_+r1@110", "l2+_@110"]);
  });

  it("a released row matches nothing: a later row that would have matched it and matches nothing else is late", () => {
    const { j, out, late } = interval("left", 0, 10);
    j.pushLeft(rec("l1", 1), 100);
    j.pushLeft(rec("l2", 1), 105);
    j.advanceRight(111); // l1 released; l2 (last chance 115) stays
    expect(out).toEqual(["l1+_@110"]);
    j.pushRight(rec("r1", 1), 108); // below the right watermark: would match l1 (released) and l2
    expect(out).toEqual(["l1+_@110", "l2+r1@108"]);
    expect(late).toEqual([]);
    j.advanceRight(116);
    j.pushRight(rec("r2", 1), 109); // would have matched l1 and l2, both released or matched… l2 matched: pairs
    expect(out).toEqual(["l1+_@110", "l2+r1@108", "l2+r2@109"]);
    j.pushLeft(rec("l3", 2), 50);
    j.pushRight(rec("r3", 2), 55); // l3 was released at once (50 + 10 < 116): r3 is late
    expect(out).toEqual(["l1+_@110", "l2+r1@108", "l2+r2@109", "l3+_@60"]);
    expect(late).toEqual(["r3"]);
  });

  it("anti join: a payment arriving after its order was emitted unpaid is late", () => {
    const { j, out, late } = interval("anti", 0, 600);
    j.pushLeft(rec("l1", 1), 1000);
    j.advanceRight(1700);
    expect(out).toEqual(["l1@1600"]);
    j.pushRight(rec("r1", 1), 1500);
    expect(late).toEqual(["r1"]);
    j.pushRight(rec("r2", 2), 1500); // would have matched nothing: not late
    expect(late).toEqual(["r1"]);
  });

  it("full join: a left row that would only have matched a released right row is late", () => {
    const { j, out, late } = interval("full", 0, 0);
    j.pushRight(rec("r1", 1), 100);
    j.advanceLeft(101);
    expect(out).toEqual(["_+r1@100"]);
    j.pushLeft(rec("l1", 1), 100);
    expect(late).toEqual(["l1"]);
    expect(out).toEqual(["_+r1@100"]);
  });

  it("semi join: each left row once, at its first match in arrival order, with the later time", () => {
    const { j, out } = interval("semi", -50, 50);
    j.pushRight(rec("r1", 1), 130);
    j.pushRight(rec("r2", 1), 90);
    j.pushLeft(rec("l1", 1), 100); // r1 arrived first: time 130
    j.pushLeft(rec("l2", 2), 100);
    j.pushRight(rec("r3", 2), 120);
    j.pushRight(rec("r4", 2), 110); // l2 already emitted
    j.pushLeft(rec("l3", 3), 100); // never matched: nothing
    j.advance(Infinity);
    expect(out).toEqual(["l1@130", "l2@120"]);
  });

  it("anti join: a left row with no match, at max(t, t + B), once the right watermark passes t + B", () => {
    const { j, out } = interval("anti", 0, 600);
    j.pushLeft(rec("l1", 1), 1000);
    j.pushLeft(rec("l2", 2), 1000);
    j.pushRight(rec("r1", 2), 1600); // inclusive: l2 is paid
    j.pushRight(rec("r2", 1), 999); // before the order: does not count
    j.advanceRight(1600);
    expect(out).toEqual([]);
    j.advanceRight(1601);
    expect(out).toEqual(["l1@1600"]);
    j.advance(Infinity);
    expect(out).toEqual(["l1@1600"]);
  });

  it("null keys match nothing; outer and anti joins still emit their rows", () => {
    for (const [kind, want] of [
      ["left", ["l0+_@10"]],
      ["right", ["_+r0@10"]],
      ["full", ["l0+_@10", "_+r0@10"]],
      ["semi", []],
      ["anti", ["l0@10"]],
    ] as [Kind, string[]][]) {
      const { j, out } = interval(kind, -10, 10);
      j.pushLeft(rec("l0", null), 0);
      j.pushRight(rec("r0", null), 0);
      j.advance(Infinity);
      expect(out, kind).toEqual(want);
    }
  });

  it("the residual condition decides a match as the keys do", () => {
    const { j, out } = interval("left", -10, 10, (l, r) => l.v < r.v);
    j.pushLeft(rec("l1", 1, 5), 0);
    j.pushRight(rec("r1", 1, 5), 0);
    j.pushRight(rec("r2", 1, 6), 0);
    j.pushLeft(rec("l2", 1, 9), 0);
    j.advance(Infinity);
    expect(out).toEqual(["l1+r2@0", "l2+_@10"]);
  });

  it("state is evicted by the smaller watermark; everything is released at +∞", () => {
    const { j, out } = interval("full", -5, 5);
    for (let i = 0; i < 10_000; i++) {
      j.pushLeft(rec(`l${i}`, i), i);
      j.pushRight(rec(`r${i}`, i + 1), i);
      j.advance(i - 10);
    }
    expect(j.bufferedRows).toBeLessThan(9000);
    j.advance(Infinity);
    expect(j.bufferedRows).toBe(0);
    expect(j.pendingRows).toBe(0);
    // l_i pairs with r_{i−1} (same key i, times i and i − 1); l0 and r9999 are padded
    expect(out.length).toBe(9999 + 2);
  });

  it("refuses unbounded or inverted bounds", () => {
    expect(() => interval("left", 0, Infinity)).toThrow(RangeError);
    expect(() => interval("left", 5, 0)).toThrow(RangeError);
  });
});

function windowJoin(kind: JoinKind, window: WindowSpec) {
  const out: string[] = [];
  const s: OuterWindowJoinSpec<Rec, Rec, string> = {
    leftKey: (l) => l.k,
    rightKey: (r) => r.k,
    match: () => true,
    combine: (l, r, ws) => (kind === "semi" || kind === "anti" ? `${l!.id}` : `${l?.id ?? "_"}+${r?.id ?? "_"}`) + `[${ws}]`,
  };
  const late: string[] = [];
  const j = new WindowJoin<Rec, Rec, string>(window, s, (row, t) => out.push(`${row}@${t}`), (l) => late.push(l.id), (r) => late.push(r.id), kind);
  return { j, out, late };
}

describe("WindowJoin of other kinds", () => {
  const tumbling: WindowSpec = { kind: "tumbling", size: 10 };
  const fill = (j: WindowJoin<Rec, Rec, string>) => {
    j.pushRight(rec("r1", 1), 1);
    j.pushLeft(rec("l1", 1), 2);
    j.pushLeft(rec("l2", 2), 3);
    j.pushRight(rec("r2", 3), 4);
    j.pushRight(rec("r3", 1), 5);
    j.pushLeft(rec("l3", null), 6);
    j.pushRight(rec("r4", null), 7);
    j.pushLeft(rec("l4", 5), 12); // the next window: alone
    j.advance(Infinity);
  };
  const want: Record<JoinKind, string[]> = {
    inner: ["l1+r1[0]@9", "l1+r3[0]@9"],
    left: ["l1+r1[0]@9", "l1+r3[0]@9", "l2+_[0]@9", "l3+_[0]@9", "l4+_[10]@19"],
    right: ["l1+r1[0]@9", "l1+r3[0]@9", "_+r2[0]@9", "_+r4[0]@9"],
    full: ["l1+r1[0]@9", "l1+r3[0]@9", "l2+_[0]@9", "l3+_[0]@9", "_+r2[0]@9", "_+r4[0]@9", "l4+_[10]@19"],
    semi: ["l1[0]@9"],
    anti: ["l2[0]@9", "l3[0]@9", "l4[10]@19"],
  };
  for (const kind of Object.keys(want) as JoinKind[]) {
    it(`${kind}: per window, each left row then its pairs or its padded row, then the unmatched right rows`, () => {
      const { j, out } = windowJoin(kind, tumbling);
      fill(j);
      expect(out).toEqual(want[kind]);
    });
  }

  it("late rows are reported as for an inner window join", () => {
    const { j, out, late } = windowJoin("full", tumbling);
    j.advance(20);
    j.pushLeft(rec("l1", 1), 5);
    j.pushRight(rec("r1", 1), 19);
    j.advance(Infinity);
    expect(late).toEqual(["l1", "r1"]);
    expect(out).toEqual([]);
  });
});

// ---- property: every kind equals a brute-force nested loop over the whole input ----------------

interface Arrival {
  side: 0 | 1;
  rec: Rec;
  t: number;
}

/**
 * Two sources, each in an order that stays within its watermark (every record's time ≥ its
 * source's watermark when it arrives: largest time so far − delay), interleaved at random.
 */
const inputs = fc
  .record({
    delay: fc.integer({ min: 0, max: 30 }),
    left: fc.array(fc.record({ k: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 8 }), v: fc.integer({ min: 0, max: 5 }), t: fc.integer({ min: 0, max: 200 }) }), { maxLength: 25 }),
    right: fc.array(fc.record({ k: fc.option(fc.integer({ min: 0, max: 3 }), { freq: 8 }), v: fc.integer({ min: 0, max: 5 }), t: fc.integer({ min: 0, max: 200 }) }), { maxLength: 25 }),
    order: fc.array(fc.boolean(), { maxLength: 50 }),
  })
  .map(({ delay, left, right, order }) => {
    // Keep a record only when it is not below its source's watermark.
    const onTime = (side: 0 | 1, rows: { k: number | null; v: number; t: number }[]): Arrival[] => {
      let max = -Infinity;
      const kept: Arrival[] = [];
      rows.forEach((r, i) => {
        if (r.t < max - delay) return;
        if (r.t > max) max = r.t;
        kept.push({ side, rec: { id: `${side === 0 ? "l" : "r"}${i}`, k: r.k, v: r.v }, t: r.t });
      });
      return kept;
    };
    const l = onTime(0, left);
    const r = onTime(1, right);
    const arrivals: Arrival[] = [];
    let i = 0;
    let j = 0;
    for (const takeLeft of order) {
      if (takeLeft && i < l.length) arrivals.push(l[i++]!);
      else if (!takeLeft && j < r.length) arrivals.push(r[j++]!);
    }
    while (i < l.length || j < r.length) arrivals.push(i < l.length ? l[i++]! : r[j++]!);
    return { delay, arrivals };
  });

const residual = (l: Rec, r: Rec) => (l.v + r.v) % 4 !== 0;
const matches = (a: Arrival, b: Arrival, lower: number, upper: number) =>
  a.rec.k !== null && a.rec.k === b.rec.k && b.t - a.t >= lower && b.t - a.t <= upper && residual(a.rec, b.rec);

/** Drives a join the way generated code does: records, and each source's watermark after each. */
function drive(arrivals: Arrival[], delay: number, push: (a: Arrival) => void, advance: (side: 0 | 1, wm: number) => void) {
  const max = [-Infinity, -Infinity];
  for (const a of arrivals) {
    push(a);
    if (a.t > max[a.side]!) {
      max[a.side] = a.t;
      advance(a.side, a.t - delay);
    }
  }
  advance(0, Infinity);
  advance(1, Infinity);
}

/** §13's answer for an interval join, computed from the whole input: `row@time` per row. */
function bruteInterval(kind: Kind, arrivals: Arrival[], lower: number, upper: number): string[] {
  const lefts = arrivals.filter((a) => a.side === 0);
  const rights = arrivals.filter((a) => a.side === 1);
  const out: string[] = [];
  const matchedRight = new Set<Arrival>();
  for (const l of lefts) {
    const ms = rights.filter((r) => matches(l, r, lower, upper)); // in arrival order
    if (kind === "semi") {
      if (ms.length) out.push(`${l.rec.id}@${Math.max(l.t, ms[0]!.t)}`);
      continue;
    }
    if (kind === "anti") {
      if (!ms.length) out.push(`${l.rec.id}@${l.t + Math.max(upper, 0)}`);
      continue;
    }
    for (const r of ms) {
      out.push(`${l.rec.id}+${r.rec.id}@${Math.max(l.t, r.t)}`);
      matchedRight.add(r);
    }
    if (!ms.length && (kind === "left" || kind === "full")) out.push(`${l.rec.id}+_@${l.t + Math.max(upper, 0)}`);
  }
  if (kind === "right" || kind === "full") for (const r of rights) if (!matchedRight.has(r)) out.push(`_+${r.rec.id}@${r.t + Math.max(-lower, 0)}`);
  return out.sort();
}

/** §13's answer for a window join, in firing order: windows by end, then the per-window order. */
function bruteWindow(kind: JoinKind, arrivals: Arrival[], size: number, slide: number): string[] {
  const starts = new Set<number>();
  const windowsOf = (t: number) => {
    const ws: number[] = [];
    for (let s = Math.floor(t / slide) * slide; s > t - size; s -= slide) ws.push(s);
    return ws;
  };
  for (const a of arrivals) for (const s of windowsOf(a.t)) starts.add(s);
  const out: string[] = [];
  for (const start of [...starts].sort((a, b) => a - b)) {
    const inW = arrivals.filter((a) => windowsOf(a.t).includes(start));
    const lefts = inW.filter((a) => a.side === 0);
    const rights = inW.filter((a) => a.side === 1);
    const t = start + size - 1;
    const matched = new Set<Arrival>();
    for (const l of lefts) {
      const ms = rights.filter((r) => matches(l, r, -Infinity, Infinity));
      if (kind === "semi" || kind === "anti") {
        if ((kind === "semi") === ms.length > 0) out.push(`${l.rec.id}[${start}]@${t}`);
        continue;
      }
      for (const r of ms) {
        out.push(`${l.rec.id}+${r.rec.id}[${start}]@${t}`);
        matched.add(r);
      }
      if (!ms.length && (kind === "left" || kind === "full")) out.push(`${l.rec.id}+_[${start}]@${t}`);
    }
    if (kind === "right" || kind === "full") for (const r of rights) if (!matched.has(r)) out.push(`_+${r.rec.id}[${start}]@${t}`);
  }
  return out;
}

describe("outer, semi and anti joins equal a nested loop over the whole input (§13 timing)", () => {
  const bounds = fc.tuple(fc.integer({ min: -40, max: 40 }), fc.integer({ min: 0, max: 60 })).map(([a, w]) => [a, a + w] as const);

  for (const kind of KINDS) {
    it(`interval ${kind} join: rows and their times; one advance releases in order of time`, () => {
      fc.assert(
        fc.property(inputs, bounds, ({ delay, arrivals }, [lower, upper]) => {
          const out: string[] = [];
          const times: number[] = [];
          const late: string[] = [];
          const j = new OuterIntervalJoin<Rec, Rec, string>(
            kind,
            lower,
            upper,
            spec(kind, residual),
            (row, t) => {
              out.push(`${row}@${t}`);
              times.push(t);
            },
            (l) => late.push(l.id),
            (r) => late.push(r.id),
          );
          drive(
            arrivals,
            delay,
            (a) => (a.side === 0 ? j.pushLeft(a.rec, a.t) : j.pushRight(a.rec, a.t)),
            (side, wm) => {
              const from = times.length;
              if (side === 0) j.advanceLeft(wm);
              else j.advanceRight(wm);
              for (let i = from + 1; i < times.length; i++) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
            },
          );
          expect(late).toEqual([]); // nothing arrives below its own watermark
          expect([...out].sort()).toEqual(bruteInterval(kind, arrivals, lower, upper));
          expect(j.bufferedRows).toBe(0);
        }),
        { numRuns: 300 },
      );
    });
  }

  for (const kind of ["inner", ...KINDS] as JoinKind[]) {
    it(`window ${kind} join (tumbling and hop): the rows, in firing order`, () => {
      fc.assert(
        fc.property(inputs, fc.constantFrom([20, 20], [30, 10]), ({ delay, arrivals }, [size, slide]) => {
          const out: string[] = [];
          const s: OuterWindowJoinSpec<Rec, Rec, string> = {
            leftKey: (l) => l.k,
            rightKey: (r) => r.k,
            match: residual,
            combine: (l, r, ws) => (kind === "semi" || kind === "anti" ? l!.id : `${l?.id ?? "_"}+${r?.id ?? "_"}`) + `[${ws}]`,
          };
          const window: WindowSpec = size === slide ? { kind: "tumbling", size } : { kind: "hop", size, slide };
          const late: string[] = [];
          const j = new WindowJoin<Rec, Rec, string>(window, s, (row, t) => out.push(`${row}@${t}`), (l) => late.push(l.id), (r) => late.push(r.id), kind);
          drive(arrivals, delay, (a) => (a.side === 0 ? j.pushLeft(a.rec, a.t) : j.pushRight(a.rec, a.t)), (side, wm) => (side === 0 ? j.advanceLeft(wm) : j.advanceRight(wm)));
          expect(late).toEqual([]);
          expect(out).toEqual(bruteWindow(kind, arrivals, size, slide));
        }),
        { numRuns: 300 },
      );
    });
  }
});
