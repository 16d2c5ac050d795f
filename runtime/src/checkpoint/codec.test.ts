import { describe, expect, it } from "vitest";
import { SessionAgg, WindowAgg, WindowJoin } from "../ops/index";
import type { AggSpec } from "../ops/types";
import { checksum, ClassTable, decode, encode, restoreFields, snapshotFields, stateClass } from "./codec";
import { fingerprintDifference, fingerprintOf, parseCheckpoint, parseCheckpointBytes, serializeCheckpoint, serializeCheckpointBytes, type CheckpointDoc } from "./run";

/** Through JSON text, as a checkpoint stores it. */
const roundTrip = (v: unknown, classes = new ClassTable()) => decode(JSON.parse(JSON.stringify(encode(v, classes))), classes);

class Point {
  constructor(
    readonly x: number,
    public tags: Set<string>,
  ) {}
  norm(): number {
    return Math.abs(this.x);
  }
}
stateClass("test.Point", Point);

describe("the checkpoint serializer", () => {
  it("round-trips numbers JSON cannot spell, undefined, holes, Maps, Sets and typed arrays", () => {
    const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
    const v = {
      nums: [NaN, Infinity, -Infinity, -0, 0, 1.5, Number.MAX_SAFE_INTEGER],
      u: undefined,
      holes,
      big: 12345678901234567890n,
      m: new Map<unknown, unknown>([["a", 1], [2, { b: [null, true] }], [null, undefined]]),
      s: new Set(["x", 1, null]),
      f: Float64Array.from([1.5, NaN, -Infinity]),
      b: Uint8Array.from([0, 255, 7]),
      i: Int32Array.from([-1, 2 ** 31 - 1]),
    };
    const back = roundTrip(v) as typeof v;
    expect(back.nums.map((x) => Object.is(x, -0) ? "-0" : String(x))).toEqual(["NaN", "Infinity", "-Infinity", "-0", "0", "1.5", String(Number.MAX_SAFE_INTEGER)]);
    expect("u" in back && back.u === undefined).toBe(true);
    expect(back.holes).toEqual([1, undefined, 3]);
    expect(back.big).toBe(12345678901234567890n);
    expect([...back.m]).toEqual([["a", 1], [2, { b: [null, true] }], [null, undefined]]);
    expect([...back.s]).toEqual(["x", 1, null]);
    expect(back.f).toBeInstanceOf(Float64Array);
    expect([...back.f]).toEqual([1.5, NaN, -Infinity]);
    expect(back.b).toBeInstanceOf(Uint8Array);
    expect([...back.b]).toEqual([0, 255, 7]);
    expect([...back.i]).toEqual([-1, 2 ** 31 - 1]);
  });

  describe("a Map of records of one shape, by columns", () => {
    class Acc {
      constructor(public k0: unknown) {}
      n = 0;
      sum = 0;
      last: unknown = null;
    }
    stateClass("test.Acc", Acc);
    const accs = (n: number, f: (a: Acc, i: number) => void = () => {}) =>
      new Map(Array.from({ length: n }, (_, i) => {
        const a = new Acc(i * 3);
        a.n = i % 7;
        a.sum = i * 1.5;
        f(a, i);
        return [i * 3, a] as const;
      }));
    const text = (v: unknown) => JSON.stringify(encode(v, new ClassTable()));

    it("round-trips class, field order, keys and every kind of number", () => {
      const m = accs(200, (a, i) => {
        if (i === 5) a.sum = -0;
        if (i === 6) a.sum = NaN;
        if (i === 7) a.n = -(2 ** 52);
        if (i === 8) a.n = 2 ** 52;
        if (i === 9) a.last = "x";
      });
      const back = roundTrip(m) as Map<number, Acc>;
      expect(text(m)).toContain('"$":"MC"');
      expect([...back.keys()]).toEqual([...m.keys()]);
      for (const [k, a] of m) {
        const b = back.get(k)!;
        expect(b).toBeInstanceOf(Acc);
        expect(Object.keys(b)).toEqual(Object.keys(a));
        for (const f of Object.keys(a) as (keyof Acc)[]) expect(Object.is(b[f], a[f])).toBe(true);
      }
    });

    it("is small: a field that is always the key is written once", () => {
      const m = accs(10_000, (a, i) => ((a.sum = i * 2), (a.last = i % 3)));
      expect(text(m)).toContain('"k"');
      expect(text(m).length / m.size).toBeLessThan(20);
    });

    it("keeps a record referenced from elsewhere the same object", () => {
      const m = accs(100);
      const back = roundTrip({ m, current: m.get(30), list: [m.get(3), m.get(3)] }) as any;
      expect(back.current).toBe(back.m.get(30));
      expect(back.list[0]).toBe(back.m.get(3));
      expect(back.list[1]).toBe(back.list[0]);
    });

    it("writes records in a field by columns too (a hop pane's entries and their states), numbered as the generic form numbers them", () => {
      const m = accs(100, (a, i) => (a.last = { deep: i % 2 === 0, n: i, gone: undefined }));
      expect(text(m)).toContain('"$":"R"');
      expect(text(m)).toContain('"$":"U"');
      // Keys are 3 × i.
      const back = roundTrip({ m, inner: m.get(21)!.last, outer: m.get(24) }) as any;
      expect(back.m.get(21).last).toEqual({ deep: false, n: 7, gone: undefined });
      expect(Object.prototype.hasOwnProperty.call(back.m.get(21).last, "gone")).toBe(true);
      expect(back.inner).toBe(back.m.get(21).last);
      expect(back.outer).toBe(back.m.get(24));
      expect(back.m.get(24)).toBeInstanceOf(Acc);
      expect(back.m.get(24).last.n).toBe(8);
    });

    it("falls back to the generic form for mixed shapes, a record under two keys, or objects two levels down", () => {
      const mixed = accs(100);
      (mixed.get(9) as any).extra = 1;
      const shared = accs(100);
      shared.set(-1, shared.get(0)!);
      const nested = accs(100, (a) => (a.last = { deep: { deeper: true } }));
      for (const m of [mixed, shared, nested]) {
        expect(text(m)).not.toContain('"$":"MC"');
        const back = roundTrip(m) as Map<number, any>;
        expect(back.size).toBe(m.size);
      }
      const back = roundTrip(shared) as Map<number, Acc>;
      expect(back.get(-1)).toBe(back.get(0));
      expect((roundTrip(mixed) as Map<number, any>).get(9).extra).toBe(1);
    });

    it("keeps a field named __proto__ an own field", () => {
      const m = new Map(Array.from({ length: 3 }, (_, i) => {
        const o: Record<string, unknown> = {};
        Object.defineProperty(o, "__proto__", { value: i, enumerable: true, writable: true, configurable: true });
        o.v = i;
        return [i, o] as const;
      }));
      const back = roundTrip(m) as Map<number, Record<string, unknown>>;
      expect(Object.getPrototypeOf(back.get(1))).toBe(Object.prototype);
      expect(Object.getOwnPropertyDescriptor(back.get(1), "__proto__")?.value).toBe(1);
    });

    it("packs long arrays of numbers, and refuses damaged packed text", () => {
      const order = Array.from({ length: 1000 }, (_, i) => (i % 2 ? -i : i * 1e6));
      const floats = Array.from({ length: 100 }, (_, i) => i / 3);
      const back = roundTrip({ order, floats, short: [1, 2] }) as any;
      expect(back.order).toEqual(order);
      expect(back.floats).toEqual(floats);
      expect(text({ order })).toContain('"$":"N"');
      expect(text({ short: [1, 2] })).toContain("[1,2]");
      const enc = JSON.parse(text({ order })) as any;
      enc.v.order.v.v = "!!" + enc.v.order.v.v.slice(2);
      expect(() => decode(enc, new ClassTable())).toThrow(/malformed checkpoint state/);
    });
  });

  it("keeps shared objects shared and cycles cyclic", () => {
    const row = { k: "a" };
    const node: { next?: unknown; row: unknown } = { row };
    node.next = node;
    const back = roundTrip({ a: row, b: [row, row], node, map: new Map([[row, node]]) }) as any;
    expect(back.a).toBe(back.b[0]);
    expect(back.b[0]).toBe(back.b[1]);
    expect(back.node.next).toBe(back.node);
    expect(back.node.row).toBe(back.a);
    expect([...back.map.keys()][0]).toBe(back.a);
  });

  it("restores registered classes without running their constructors; names from data stay data", () => {
    const p = new Point(-3, new Set(["t"]));
    const data = JSON.parse('{"__proto__": {"polluted": 1}, "constructor": "c"}');
    const bare = Object.create(null) as Record<string, unknown>;
    bare.k = 1;
    const back = roundTrip({ p, data, bare }) as any;
    expect(back.p).toBeInstanceOf(Point);
    expect(back.p.norm()).toBe(3);
    expect([...back.p.tags]).toEqual(["t"]);
    expect(Object.keys(back.data)).toEqual(["__proto__", "constructor"]);
    expect(Object.getPrototypeOf(back.data)).toBe(Object.prototype);
    expect(({} as any).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back.bare)).toBe(null);
    // A program's class under a name wins over the runtime's.
    class Other {
      x = 1;
    }
    const table = new ClassTable({ Other });
    expect((roundTrip(new Other(), table) as Other).x).toBe(1);
    expect(Object.getPrototypeOf(roundTrip(new Other(), table))).toBe(Other.prototype);
  });

  it("refuses functions, symbols and unregistered classes by where they are, and malformed input", () => {
    class Stray {}
    expect(() => encode({ a: { f: () => 1 } }, new ClassTable())).toThrow("checkpoint state holds a function at state.a.f");
    expect(() => encode({ s: Symbol("x") }, new ClassTable())).toThrow("holds a symbol at state.s");
    expect(() => encode({ op: { win: new Stray() } }, new ClassTable())).toThrow("an instance of class Stray, which is not registered (stateClass / Program.stateClasses), at state.op.win");
    expect(() => decode({ $: "c", c: "nope", v: {} }, new ClassTable())).toThrow("unknown class nope");
    expect(() => decode({ $: "r", i: 5 }, new ClassTable())).toThrow("reference 5");
    expect(() => decode({ $: "?" }, new ClassTable())).toThrow("tag ?");
  });

  it("a checksum catches any changed character", () => {
    expect(checksum("abc")).toMatch(/^[0-9a-f]{14}$/);
    expect(checksum("abc")).not.toBe(checksum("abd"));
    expect(checksum("")).not.toBe(checksum(" "));
  });
});

type Row = { k: string; v: number };
type S = { k: string; n: number; sum: number; seen: Set<number> };
const spec: AggSpec<Row, S, { k: string; n: number; sum: number; d: number; ws: number; we: number }> = {
  key: (r) => r.k,
  init: (r) => ({ k: r.k, n: 0, sum: 0, seen: new Set() }),
  add: (s, r) => {
    s.n++;
    s.sum += r.v;
    s.seen.add(r.v % 3);
  },
  result: (s, ws, we) => ({ k: s.k, n: s.n, sum: s.sum, d: s.seen.size, ws, we }),
  merge: (s, o) => {
    s.n += o.n;
    s.sum += o.sum;
    for (const x of o.seen) s.seen.add(x);
  },
};

/**
 * An operator's state round trip: half the input into one operator, its snapshot through JSON into
 * a fresh one, then the other half into both — the rows they emit after the snapshot are the same.
 */
function sameAfterRestore<Op extends { advance(wm: number): void; snapshot(): unknown; restore(d: unknown): void }>(
  make: (emit: (row: unknown) => void) => Op,
  feed: (op: Op, i: number) => void,
  n: number,
): unknown[] {
  const rowsA: unknown[] = [];
  const rowsB: unknown[] = [];
  const a = make((r) => rowsA.push(r));
  for (let i = 0; i < n / 2; i++) feed(a, i);
  const classes = new ClassTable();
  const b = make((r) => rowsB.push(r));
  b.restore(decode(JSON.parse(JSON.stringify(encode(a.snapshot(), classes))), classes));
  rowsA.length = 0;
  for (let i = Math.floor(n / 2); i < n; i++) {
    feed(a, i);
    feed(b, i);
  }
  a.advance(Infinity);
  b.advance(Infinity);
  expect(rowsB).toEqual(rowsA);
  expect(rowsA.length).toBeGreaterThan(0);
  return rowsA;
}

describe("operator state round trips", () => {
  it("WindowAgg (hop with panes), SessionAgg (merged sessions), WindowJoin", () => {
    const t = (i: number) => i * 300 + (i % 4) * 170;
    const row = (i: number): Row => ({ k: `k${i % 3}`, v: i });
    sameAfterRestore((emit) => new WindowAgg({ kind: "hop", size: 2000, slide: 500 }, spec, (r) => emit(r), () => {}), (op, i) => {
      op.push(row(i), t(i));
      op.advance(t(i) - 400);
    }, 200);
    sameAfterRestore((emit) => new SessionAgg(700, spec, (r) => emit(r), () => {}), (op, i) => {
      op.push(row(i), t(i) + (i % 7 === 0 ? 2000 : 0));
      op.advance(t(i) - 1000);
    }, 200);
    const jspec = { leftKey: (l: Row) => l.k, rightKey: (r: Row) => r.k, match: () => true, combine: (l: Row, r: Row) => ({ l: l.v, r: r.v }) };
    sameAfterRestore((emit) => new WindowJoin({ kind: "tumbling", size: 1000 }, jspec as any, (r: unknown) => emit(r), () => {}, () => {}), (op, i) => {
      if (i % 2 === 0) op.pushLeft(row(i), t(i));
      else op.pushRight(row(i), t(i));
      op.advance(t(i) - 500);
    }, 200);
  });

  it("snapshotFields leaves out the spec and callbacks; restoreFields keeps the fresh ones", () => {
    const emit = () => {};
    const op = { spec: { x: 1 }, emit, n: 3, inner: { snapshot: () => "inner", restore(d: unknown) { (this as any).got = d; } } };
    const snap = snapshotFields(op);
    expect(Object.keys(snap)).toEqual(["n", "inner"]);
    expect(snap.inner).toBe("inner");
    const fresh = { spec: { x: 2 }, emit, n: 0, inner: { snapshot: () => "", restore(d: unknown) { (this as any).got = d; } } };
    restoreFields(fresh, snap);
    expect(fresh.n).toBe(3);
    expect(fresh.spec.x).toBe(2);
    expect((fresh.inner as any).got).toBe("inner");
  });
});

describe("checkpoint documents", () => {
  const E = 'source e = file("e.jsonl", jsonl) arrival time; type {"kind":"record","fields":[]}';
  const doc = (operators: CheckpointDoc["fingerprint"]["operators"], sources = [E]): CheckpointDoc => ({
    format: "flowc-checkpoint",
    version: 1,
    runId: "r",
    seq: 1,
    time: 0,
    finished: false,
    program: "p.flow",
    fingerprint: { sources, operators },
    sources: [],
    sinks: [],
    counters: { out: {}, late: 0, bad: 0 },
    state: [],
  });

  it("text with a checksum: read back, or refused when damaged", () => {
    const text = serializeCheckpoint(doc([]));
    expect(parseCheckpoint(text, "ck").runId).toBe("r");
    expect(() => parseCheckpoint(text.replace('"runId":"r"', '"runId":"s"'), "ck")).toThrow("the checkpoint in ck is damaged (its checksum does not match)");
    expect(() => parseCheckpoint("hello", "ck")).toThrow("ck does not hold a flowc checkpoint");
    expect(() => parseCheckpoint(text.replace("flowc-checkpoint 1", "flowc-checkpoint 9"), "ck")).toThrow("has version 9");
  });

  it("names the first difference of the stateful parts by file:line; lines alone may move", () => {
    const program = {
      file: "p.flow",
      sources: [{ name: "e", schema: { kind: "record", fields: [] }, connector: { kind: "file", path: "e.jsonl", format: "jsonl" } }],
      tables: [],
      outputs: [],
      state: [
        { node: 1, kind: "windowAgg", line: 5, shape: "window tumbling(1000)", members: [] },
        { node: 2, kind: "top", line: 9, shape: "n 3", members: [] },
      ],
      create: () => ({}) as never,
    } as any;
    expect(fingerprintOf(program).sources).toEqual([E]);
    const same = doc([{ kind: "windowAgg", line: 4, shape: "window tumbling(1000)" }, { kind: "top", line: 8, shape: "n 3" }]);
    expect(fingerprintDifference(same.fingerprint, program)).toBeUndefined();
    expect(fingerprintDifference(doc([{ kind: "windowAgg", line: 5, shape: "window tumbling(2000)" }, { kind: "top", line: 9, shape: "n 3" }]).fingerprint, program)).toBe(
      "p.flow:5: the windowAgg changed (was: window tumbling(2000); now: window tumbling(1000))",
    );
    expect(fingerprintDifference(doc([{ kind: "windowAgg", line: 5, shape: "window tumbling(1000)" }]).fingerprint, program)).toBe("p.flow:9: a stateful top was added");
    expect(fingerprintDifference(doc([...same.fingerprint.operators, { kind: "distinct", line: 12, shape: "" }]).fingerprint, program)).toBe("p.flow:12: the stateful distinct of the checkpoint is gone");
    expect(fingerprintDifference(doc(same.fingerprint.operators, ["source e = file(\"other.jsonl\", jsonl) arrival time; type {}"]).fingerprint, program)).toMatch(/^source e changed \(was: source e = file\("other.jsonl"/);
  });

  it("the binary form: its blob lengths must be whole, not negative, and within the file (checksum or not)", () => {
    const good = { ...doc([]), blobs: [] };
    expect(parseCheckpointBytes(serializeCheckpointBytes(good), "ck").runId).toBe("r");
    for (const blobs of [[-8], [2.5], [1e9]]) {
      const bytes = serializeCheckpointBytes({ ...doc([]), blobs } as CheckpointDoc);
      expect(() => parseCheckpointBytes(bytes, "ck"), JSON.stringify(blobs)).toThrow("the checkpoint in ck is damaged");
    }
  });
});
