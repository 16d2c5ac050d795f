import { readFileSync } from "node:fs";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { ConnectorSpec, GraphInstance, OutputSpec, Program, RecordSchema, RunContext, Schema, SourceSpec, TableSpec } from "./contract.js";
import { nexmarkGenerator } from "../../stdlib/src/nexmark.js";
import { InputError, OutputError, registerNexmark, runProgram, StrictInputError, summaryLine, UsageError, type RunOptions } from "./driver.js";
import { createMemoryEnv, type Env } from "./env.js";

const testdata = (name: string) => readFileSync(new URL(`./testdata/${name}`, import.meta.url), "utf8");

const int: Schema = { kind: "int" };
const float: Schema = { kind: "float" };
const str: Schema = { kind: "string" };
const time: Schema = { kind: "time" };
const rec = (fields: Record<string, Schema>): RecordSchema => ({
  kind: "record",
  fields: Object.entries(fields).map(([name, type]) => ({ name, type })),
});

const Bid = rec({ auction: int, bidder: int, price: int, channel: str, dateTime: time });
const Click = rec({ user: str, device: str, ts: time });
const Reading = rec({ sensor: str, value: float, ts: time });
const Ev = rec({ id: str, t: time });

const file = (path: string, format: "jsonl" | "csv" | "lines" = "jsonl"): ConnectorSpec => ({ kind: "file", path, format });
const source = (name: string, schema: Schema, connector: ConnectorSpec, eventTime?: { field: string; delayMs: number }, keep?: string[]): SourceSpec => ({
  name,
  schema,
  connector,
  ...(eventTime ? { eventTime } : {}),
  ...(keep ? { keep } : {}),
});
const out = (name: string, schema: Schema, connector?: OutputSpec["connector"], final = false): OutputSpec => ({
  name,
  schema,
  final,
  ...(connector ? { connector } : {}),
});

type Call = ["push", number, unknown, number] | ["advance", number, number] | ["finish"];

/** A program whose graph records every driver call and hands each record to `onPush`. */
function program(
  sources: SourceSpec[],
  outputs: OutputSpec[],
  onPush: (ctx: RunContext, source: number, rec: any, t: number) => void = (ctx, _i, r) => ctx.emit[0]?.(r),
  opts: { tables?: TableSpec[]; onFinish?: (ctx: RunContext) => void; onAdvance?: (ctx: RunContext, i: number, wm: number) => void; record?: boolean } = {},
): Program & { calls: Call[]; ctx?: RunContext } {
  const p: Program & { calls: Call[]; ctx?: RunContext } = {
    file: "test.flow",
    sources,
    tables: opts.tables ?? [],
    outputs,
    calls: [],
    create(ctx): GraphInstance {
      p.ctx = ctx;
      return {
        push: sources.map((_, i) =>
          opts.record === false
            ? (r: unknown, t: number) => onPush(ctx, i, r, t)
            : (r: unknown, t: number) => {
                p.calls.push(["push", i, r, t]);
                onPush(ctx, i, r, t);
              },
        ),
        advance(i, wm) {
          if (opts.record !== false) p.calls.push(["advance", i, wm]);
          opts.onAdvance?.(ctx, i, wm);
        },
        finish() {
          p.calls.push(["finish"]);
          opts.onFinish?.(ctx);
        },
      };
    },
  };
  return p;
}

const run = (p: Program, env: Env, options: RunOptions = {}) => runProgram(p, { env, summary: false, ...options });

describe("runProgram: conformance-shaped runs", () => {
  it("c01: passes records through, printing declared fields in order with ISO times", async () => {
    const env = createMemoryEnv({ files: { "bids.jsonl": testdata("c01_bids.jsonl") } });
    const p = program([source("bids", Bid, file("bids.jsonl"), { field: "dateTime", delayMs: 4000 })], [out("out1", Bid)]);
    const summary = await runProgram(p, { env });
    expect(env.stdoutText()).toBe(testdata("c01_expected.out"));
    expect(summary).toMatchObject({ in: { bids: 25 }, out: { out1: 25 }, totalIn: 25, totalOut: 25, late: 0, bad: 0 });
    expect(env.stderrText()).toMatch(/^flowc: 25 in \(bids 25\), 25 out, 0 late, 0 bad, \d+ ms, [\d.]+k? events\/s\n$/);
  });

  it("c16: reports bad lines 2, 3, 4, 6, 8 on stderr and processes the good ones", async () => {
    const env = createMemoryEnv({ files: { "data/readings.jsonl": testdata("c16_readings.jsonl") } });
    const Sel = rec({ sensor: str, value: float });
    const p = program([source("readings", Reading, file("readings.jsonl"), { field: "ts", delayMs: 0 })], [out("out1", Sel)], (ctx, _i, r) => {
      if (r.value > 0) ctx.emit[0]!({ sensor: r.sensor, value: r.value });
    });
    const summary = await run(p, env, { baseDir: "data", deadLetter: "dead.jsonl" });
    expect(env.stdoutText()).toBe(testdata("c16_expected.out"));
    expect(summary.bad).toBe(5);
    expect(summary.in).toEqual({ readings: 4 });
    const lines = env.stderrText().trimEnd().split("\n");
    expect(lines.map((l) => l.slice(0, l.indexOf(": ")))).toEqual([
      "readings.jsonl:2",
      "readings.jsonl:3",
      "readings.jsonl:4",
      "readings.jsonl:6",
      "readings.jsonl:8",
    ]);
    expect(lines[0]).toBe('readings.jsonl:2: field "value": expected float, got "high"');
    expect(lines[2]).toBe('readings.jsonl:4: field "value": missing');
    expect(lines[3]).toBe('readings.jsonl:6: field "ts": expected time, got "yesterday"');
    // Dead letters: {"source", "file", "line", "error", "raw"}, in that order.
    const dead = env.output("data/dead.jsonl")!.trimEnd().split("\n").map((l) => JSON.parse(l));
    expect(dead).toHaveLength(5);
    expect(Object.keys(dead[0])).toEqual(["source", "file", "line", "error", "raw"]);
    expect(dead[0]).toEqual({
      source: "readings",
      file: "readings.jsonl",
      line: 2,
      error: 'field "value": expected float, got "high"',
      raw: '{"sensor":"s1","value":"high","ts":"2026-01-01T00:00:02.000Z"}',
    });
    expect(dead[1]).toMatchObject({ line: 3, raw: "this is not json" });
    expect(dead[1].error).toMatch(/^invalid JSON/);
  });

  it("c13: merges two sources by event time, ties to the source declared first", async () => {
    for (const chunkSize of [1 << 16, 1, 7, 100]) {
      const env = createMemoryEnv({ files: { "web.jsonl": testdata("c13_web.jsonl"), "mobile.jsonl": testdata("c13_mobile.jsonl") }, chunkSize });
      const et = { field: "ts", delayMs: 0 };
      const p = program([source("web", Click, file("web.jsonl"), et), source("mobile", Click, file("mobile.jsonl"), et)], [out("out1", Click)]);
      const summary = await run(p, env);
      expect(env.stdoutText()).toBe(testdata("c13_expected.out"));
      expect(summary.in).toEqual({ web: 20, mobile: 20 });
    }
  });

  it("c14: reads typed CSV cells", async () => {
    const Trade = rec({ sym: str, px: float, qty: int, buy: { kind: "bool" }, venue: { kind: "optional", inner: str }, ts: time });
    const env = createMemoryEnv({ files: { "trades.csv": testdata("c14_trades.csv") }, chunkSize: 100 });
    const got: any[] = [];
    const p = program([source("trades", Trade, file("trades.csv", "csv"), { field: "ts", delayMs: 0 })], [], (_c, _i, r) => got.push(r));
    await run(p, env);
    expect(got).toHaveLength(90);
    expect(got.filter((r) => r.venue !== null)).toHaveLength(62);
    // with_venue for INIT in the first minute is 5 in c14's expected output
    const initFirstMinute = got.filter((r) => r.sym === "INIT" && r.ts < Date.UTC(2026, 0, 1, 0, 1));
    expect(initFirstMinute.filter((r) => r.venue !== null)).toHaveLength(5);
    expect(initFirstMinute.reduce((a, r) => a + r.qty, 0)).toBe(329);
  });
});

describe("runProgram: merged reading and watermarks", () => {
  const jsonl = (rows: [string, number][]) => rows.map(([id, t]) => JSON.stringify({ id, t })).join("\n") + "\n";
  const pushes = (p: { calls: Call[] }) => p.calls.filter((c) => c[0] === "push").map((c) => (c[2] as any).id);

  it("breaks ties by declaration order, not by file order", async () => {
    const files = {
      "a.jsonl": jsonl([["a1", 1], ["a2", 2], ["a3", 2], ["a4", 5]]),
      "b.jsonl": jsonl([["b1", 0], ["b2", 2], ["b3", 2], ["b4", 3], ["b5", 5]]),
    };
    const et = { field: "t", delayMs: 0 };
    for (const chunkSize of [1, 9, 1 << 16]) {
      const ab = program([source("a", Ev, file("a.jsonl"), et), source("b", Ev, file("b.jsonl"), et)], []);
      await run(ab, createMemoryEnv({ files, chunkSize }));
      expect(pushes(ab)).toEqual(["b1", "a1", "a2", "a3", "b2", "b3", "b4", "a4", "b5"]);
      const ba = program([source("b", Ev, file("b.jsonl"), et), source("a", Ev, file("a.jsonl"), et)], []);
      await run(ba, createMemoryEnv({ files, chunkSize }));
      expect(pushes(ba)).toEqual(["b1", "a1", "b2", "b3", "a2", "a3", "b4", "b5", "a4"]);
    }
  });

  it("merges three sources, some out of order within themselves", async () => {
    const files = {
      "x.jsonl": jsonl([["x1", 5], ["x2", 1], ["x3", 9]]),
      "y.jsonl": jsonl([["y1", 3], ["y2", 3]]),
      "z.jsonl": jsonl([["z1", 1], ["z2", 10]]),
    };
    const et = { field: "t", delayMs: 0 };
    const p = program(["x", "y", "z"].map((n) => source(n, Ev, file(`${n}.jsonl`), et)), []);
    await run(p, createMemoryEnv({ files, chunkSize: 5 }));
    // The smallest *next* record first: x2 (t=1) waits behind x1 (t=5).
    expect(pushes(p)).toEqual(["z1", "y1", "y2", "x1", "x2", "x3", "z2"]);
  });

  it("advances each source's watermark when its max time rises, +∞ at its end, then finishes", async () => {
    const files = {
      "a.jsonl": jsonl([["a1", 1000], ["a2", 3000], ["a3", 2000], ["a4", 3000], ["a5", 4000]]),
      "b.jsonl": jsonl([["b1", 1500]]),
    };
    const p = program([source("a", Ev, file("a.jsonl"), { field: "t", delayMs: 500 }), source("b", Ev, file("b.jsonl"), { field: "t", delayMs: 0 })], []);
    await run(p, createMemoryEnv({ files }));
    const calls = p.calls.map((c) => (c[0] === "push" ? ["push", c[1], (c[2] as any).id, c[3]] : c));
    expect(calls).toEqual([
      ["push", 0, "a1", 1000],
      ["advance", 0, 500],
      ["push", 1, "b1", 1500],
      ["advance", 1, 1500],
      ["advance", 1, Infinity], // b has ended
      ["push", 0, "a2", 3000],
      ["advance", 0, 2500],
      ["push", 0, "a3", 2000], // no rise: no advance
      ["push", 0, "a4", 3000],
      ["push", 0, "a5", 4000],
      ["advance", 0, 3500],
      ["advance", 0, Infinity],
      ["finish"],
    ]);
  });

  it("single source: watermark from every valid record, bad ones skipped", async () => {
    const files = { "a.jsonl": '{"id":"1","t":10}\n{"id":"2","t":"bad"}\n{"id":"3","t":5}\n{"id":"4","t":20}\n' };
    const p = program([source("a", Ev, file("a.jsonl"), { field: "t", delayMs: 2 })], []);
    await run(p, createMemoryEnv({ files }));
    expect(p.calls.filter((c) => c[0] !== "push")).toEqual([["advance", 0, 8], ["advance", 0, 18], ["advance", 0, Infinity], ["finish"]]);
  });

  it("an empty source ends at once", async () => {
    const p = program([source("a", Ev, file("a.jsonl"), { field: "t", delayMs: 0 }), source("b", Ev, file("b.jsonl"), { field: "t", delayMs: 0 })], []);
    await run(p, createMemoryEnv({ files: { "a.jsonl": "", "b.jsonl": '{"id":"b","t":1}\n' } }));
    expect(p.calls).toEqual([["advance", 0, Infinity], ["push", 1, { id: "b", t: 1 }, 1], ["advance", 1, 1], ["advance", 1, Infinity], ["finish"]]);
  });

  it("uses arrival time for a source without event time", async () => {
    const before = Date.now();
    const p = program([source("a", Ev, file("a.jsonl"))], []);
    await run(p, createMemoryEnv({ files: { "a.jsonl": '{"id":"1","t":0}\n{"id":"2","t":0}\n' } }));
    const after = Date.now();
    const ts = p.calls.filter((c) => c[0] === "push").map((c) => c[3] as number);
    expect(ts).toHaveLength(2);
    for (const t of ts) expect(t >= before && t <= after).toBe(true);
    expect(p.calls.filter((c) => c[0] === "advance").at(-1)).toEqual(["advance", 0, Infinity]);
  });

  it("materialises the event-time field even when `keep` leaves it out", async () => {
    const p = program([source("bids", Bid, file("b.jsonl"), { field: "dateTime", delayMs: 0 }, ["price"])], []);
    await run(p, createMemoryEnv({ files: { "b.jsonl": '{"auction":1,"bidder":2,"price":3,"channel":"x","dateTime":"2026-01-01T00:00:00Z"}\n' } }));
    expect(p.calls[0]).toEqual(["push", 0, { price: 3, dateTime: Date.UTC(2026, 0, 1) }, Date.UTC(2026, 0, 1)]);
  });
});

describe("runProgram: bad input", () => {
  const lines = (n: number, bad: (i: number) => boolean) =>
    Array.from({ length: n }, (_, i) => (bad(i + 1) ? `{"id":"${i + 1}","t":"never"}` : `{"id":"${i + 1}","t":${i + 1}}`)).join("\n");

  it("strict: stops at the first bad record after processing the ones before it", async () => {
    const env = createMemoryEnv({ files: { "a.jsonl": lines(10, (i) => i === 4 || i === 7) }, chunkSize: 1 << 16 });
    const p = program([source("a", Ev, file("a.jsonl"), { field: "t", delayMs: 0 })], [out("out1", Ev)]);
    const err = await run(p, env, { strict: true }).catch((e) => e);
    expect(err).toBeInstanceOf(StrictInputError);
    expect(err).toMatchObject({ exitCode: 65, source: "a", file: "a.jsonl", line: 4, error: 'field "t": expected time, got "never"' });
    // Records 1..3 were pushed (and their output written), nothing after; no finish.
    expect(p.calls.filter((c) => c[0] === "push").map((c) => (c[2] as any).id)).toEqual(["1", "2", "3"]);
    expect(p.calls.some((c) => c[0] === "finish")).toBe(false);
    expect(env.stdoutText().trimEnd().split("\n")).toHaveLength(3);
    expect(env.stderrText()).toBe('a.jsonl:4: field "t": expected time, got "never"\n');
  });

  it("strict with merged sources: the merge stops where the bad record's source reaches it", async () => {
    const files = { "a.jsonl": lines(6, (i) => i === 3), "b.jsonl": '{"id":"b1","t":1}\n{"id":"b2","t":2}\n{"id":"b9","t":9}\n' };
    const et = { field: "t", delayMs: 0 };
    const p = program([source("a", Ev, file("a.jsonl"), et), source("b", Ev, file("b.jsonl"), et)], []);
    await expect(run(p, createMemoryEnv({ files }), { strict: true })).rejects.toBeInstanceOf(StrictInputError);
    // b1 (t=1) goes between a's 1 and 2; then a's next record is the bad one: it has no time to
    // merge by, so b2 (t=2) cannot be placed before or after it and the run stops there.
    expect(p.calls.filter((c) => c[0] === "push").map((c) => (c[2] as any).id)).toEqual(["1", "b1", "2"]);
  });

  it("strict also applies to tables", async () => {
    const Ch = rec({ name: str, fee: float });
    const p = program([], [], undefined, { tables: [{ name: "ch", schema: Ch, connector: file("ch.csv", "csv"), key: "name" }] });
    const err = await run(p, createMemoryEnv({ files: { "ch.csv": "name,fee\nA,1\nB,x\n" } }), { strict: true }).catch((e) => e);
    expect(err).toBeInstanceOf(StrictInputError);
    expect(err.message).toBe('ch.csv:3: field "fee": expected float, got "x"');
  });

  it("caps stderr messages but counts and dead-letters every bad record", async () => {
    const env = createMemoryEnv({ files: { "a.jsonl": lines(400, (i) => i % 2 === 0) }, chunkSize: 1000 });
    const p = program([source("a", Ev, file("a.jsonl"), { field: "t", delayMs: 0 })], [out("out1", Ev)]);
    const s = await runProgram(p, { env, deadLetter: "dead.jsonl", maxBadMessages: 100 });
    expect(s.bad).toBe(200);
    expect(s.totalIn).toBe(200);
    const err = env.stderrText().trimEnd().split("\n");
    expect(err).toHaveLength(102);
    expect(err[0]).toBe('a.jsonl:2: field "t": expected time, got "never"');
    expect(err[99]).toMatch(/^a\.jsonl:200: /);
    expect(err[100]).toBe("flowc: ... 100 more bad records");
    expect(err[101]).toMatch(/^flowc: 200 in \(a 200\), 200 out, 0 late, 200 bad, /);
    expect(env.output("dead.jsonl")!.trimEnd().split("\n")).toHaveLength(200);
    expect(env.stdoutText().trimEnd().split("\n")).toHaveLength(200); // no good record lost
  });

  it("reports bad items of an iterable by their position", async () => {
    const env = createMemoryEnv();
    const items = [{ id: "1", t: 1 }, { id: "2", t: "x" }, { id: "3", t: "2026-01-01T00:00:00Z" }];
    const p = program([source("ev", Ev, { kind: "iterable", iterable: items }, { field: "t", delayMs: 0 })], [out("out1", Ev)]);
    const s = await run(p, env, { deadLetter: "dl.jsonl" });
    expect(s.bad).toBe(1);
    expect(env.stderrText()).toBe('<ev>:2: field "t": expected time, got "x"\n');
    expect(JSON.parse(env.output("dl.jsonl")!)).toEqual({ source: "ev", file: "<ev>", line: 2, error: 'field "t": expected time, got "x"', raw: '{"id":"2","t":"x"}' });
    expect(env.stdoutText()).toBe('{"id":"1","t":"1970-01-01T00:00:00.001Z"}\n{"id":"3","t":"2026-01-01T00:00:00.000Z"}\n');
  });
});

describe("runProgram: connectors", () => {
  it("range(from, to): ints, `to` excluded", async () => {
    const env = createMemoryEnv();
    const p = program([source("n", int, { kind: "range", from: 1, to: 10 })], [out("out1", int)], (ctx, _i, n) => {
      if (n % 2 === 0) ctx.emit[0]!(n * n);
    });
    const s = await run(p, env);
    expect(env.stdoutText()).toBe("4\n16\n36\n64\n");
    expect(s.in).toEqual({ n: 9 });
  });

  it("a large range comes in batches", async () => {
    let n = 0;
    let sum = 0;
    const p = program([source("n", int, { kind: "range", from: -5, to: 100_000 })], [], (_c, _i, v) => {
      n++;
      sum += v;
    });
    await run(p, createMemoryEnv());
    expect(n).toBe(100_005);
    expect(sum).toBe((99_999 * 100_000) / 2 - 15);
  });

  it("sourceOverrides replace a connector; values are validated (ISO or ms times)", async () => {
    const env = createMemoryEnv();
    const p = program([source("bids", Bid, file("nowhere.jsonl"), { field: "dateTime", delayMs: 0 })], [out("out1", Bid)]);
    const rows = [
      { auction: 1, bidder: 2, price: 3, channel: "c", dateTime: "2026-01-01T00:00:01Z", extra: true },
      { auction: 1, bidder: 2, price: 4, channel: "c", dateTime: Date.UTC(2026, 0, 1, 0, 0, 2) },
    ];
    async function* live() {
      for (const r of rows) yield r;
    }
    for (const src of [rows, live()]) {
      const env = createMemoryEnv();
      await run(p, env, { sourceOverrides: { bids: src } });
      expect(env.stdoutText()).toBe(
        '{"auction":1,"bidder":2,"price":3,"channel":"c","dateTime":"2026-01-01T00:00:01.000Z"}\n' +
          '{"auction":1,"bidder":2,"price":4,"channel":"c","dateTime":"2026-01-01T00:00:02.000Z"}\n',
      );
    }
    await expect(run(p, env, { sourceOverrides: { nope: [] } })).rejects.toBeInstanceOf(UsageError);
  });

  it("stdin and lines", async () => {
    const env = createMemoryEnv({ stdin: "hello\r\nworld\n", chunkSize: 3 });
    const p = program([source("l", str, { kind: "stdin", format: "lines" })], [out("out1", str)]);
    await run(p, env);
    expect(env.stdoutText()).toBe('"hello"\n"world"\n');
  });

  it("a missing input file is an InputError naming the path as written", async () => {
    const p = program([source("a", Ev, file("missing.jsonl"))], []);
    const err = await run(p, createMemoryEnv()).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.exitCode).toBe(66);
    expect(err.message).toMatch(/^cannot read missing\.jsonl: /);
  });

  it("an output that cannot be created is an OutputError (exit 73)", async () => {
    const env = createMemoryEnv({ files: { "a.jsonl": "" } });
    const failing: Env = { ...env, openOutput: async () => Promise.reject(new Error("read-only")) };
    const p = program([source("a", Ev, file("a.jsonl"))], [out("o", Ev, { kind: "file", path: "o.jsonl", format: "jsonl" })]);
    const err = await run(p, failing).catch((e) => e);
    expect(err).toBeInstanceOf(OutputError);
    expect(err).toMatchObject({ exitCode: 73, message: "cannot write output o to o.jsonl: read-only" });
  });

  it("nexmark: uses options.nexmark when given", async () => {
    const Nb = rec({ auction: int, price: int, dateTime: time });
    const p = program([source("b", Nb, { kind: "nexmark", eventKind: "bid", events: 3, rate: 1000, seed: 1, start: 0 }, { field: "dateTime", delayMs: 0 })], []);
    const specs: unknown[] = [];
    await run(p, createMemoryEnv(), {
      nexmark: (spec) => {
        specs.push(spec);
        return [{ auction: 1, price: 2, dateTime: 5, url: "u" }];
      },
    });
    expect(specs).toEqual([{ kind: "nexmark", eventKind: "bid", events: 3, rate: 1000, seed: 1, start: 0 }]);
    expect(p.calls[0]).toEqual(["push", 0, { auction: 1, price: 2, dateTime: 5 }, 5]);
  });

  it("nexmark: falls back to the registered (stdlib) generator", async () => {
    const Nb = rec({ auction: int, bidder: int, price: int, dateTime: time });
    let n = 0;
    let last = -Infinity;
    const p = program([source("b", Nb, { kind: "nexmark", eventKind: "bid", events: 1000, rate: 10_000, seed: 42, start: 1e12 }, { field: "dateTime", delayMs: 0 })], [], (_c, _i, r, t) => {
      n++;
      expect(t).toBe(r.dateTime);
      expect(t).toBeGreaterThanOrEqual(last);
      last = t;
    });
    registerNexmark(nexmarkGenerator); // as node.ts does (the runtime does not import the stdlib)
    await run(p, createMemoryEnv());
    expect(n).toBe(920); // 46 of every 50 events are bids
  });
});

describe("runProgram: tables", () => {
  it("loads tables first, last row per key wins, bad rows reported", async () => {
    const Ch = rec({ name: str, owner: str, fee: float });
    const env = createMemoryEnv({
      files: { "channels.csv": "name,owner,fee\nGoogle,Alphabet,0.05\nApple,Apple Inc,x\nGoogle,Alpha,0.07\n", "b.jsonl": '{"id":"Google","t":1}\n' },
    });
    let seen: Map<unknown, unknown> | undefined;
    const p = program([source("b", Ev, file("b.jsonl"))], [], (ctx) => (seen = ctx.tables[0]), {
      tables: [{ name: "channels", schema: Ch, connector: file("channels.csv", "csv"), key: "name" }],
    });
    const s = await run(p, env);
    expect(seen).toBeDefined();
    expect([...seen!.entries()]).toEqual([["Google", { name: "Google", owner: "Alpha", fee: 0.07 }]]);
    expect(s.bad).toBe(1);
    expect(env.stderrText()).toBe('channels.csv:3: field "fee": expected float, got "x"\n');
  });
});

describe("runProgram: outputs", () => {
  const Row = rec({ auction: int, price: int });
  const src = () => source("bids", Bid, file("bids.jsonl"), { field: "dateTime", delayMs: 0 });
  const bids = testdata("c01_bids.jsonl");
  const route = (ctx: RunContext, _i: number, r: any) => {
    if (r.price >= 500) ctx.emit[0]!({ auction: r.auction, price: r.price });
    if (r.price < 100) ctx.emit[1]!({ auction: r.auction, price: r.price });
  };

  it("several stdout outputs print NAME<TAB>JSON", async () => {
    const env = createMemoryEnv({ files: { "bids.jsonl": bids } });
    const s = await run(program([src()], [out("big", Row), out("small", Row)], route), env);
    const lines = env.stdoutText().trimEnd().split("\n");
    expect(lines[0]).toBe('big\t{"auction":1011,"price":554}');
    expect(lines).toContain('small\t{"auction":1003,"price":43}');
    expect(s.out).toEqual({ big: 6, small: 1 });
    expect(summaryLine(s)).toMatch(/7 out \(big 6, small 1\)/);
  });

  it("a single stdout output is plain JSONL even when others go to files", async () => {
    const env = createMemoryEnv({ files: { "bids.jsonl": bids } });
    await run(program([src()], [out("big", Row), out("small", Row, { kind: "file", path: "out/small.jsonl", format: "jsonl" })], route), env);
    expect(env.stdoutText().split("\n")[0]).toBe('{"auction":1011,"price":554}');
    expect(env.output("out/small.jsonl")).toBe('{"auction":1003,"price":43}\n');
  });

  it("--out overrides, CSV by extension; onRow callbacks print nothing", async () => {
    const env = createMemoryEnv({ files: { "d/bids.jsonl": bids } });
    const rows: unknown[] = [];
    await run(program([src()], [out("big", Row), out("small", Row)], route), env, {
      baseDir: "d",
      outOverrides: { big: "big.csv" },
      onRow: { small: (r) => rows.push(r) },
    });
    expect(env.stdoutText()).toBe("");
    expect(env.output("d/big.csv")!.split("\n").slice(0, 2)).toEqual(["auction,price", "1011,554"]);
    expect(rows).toEqual([{ auction: 1003, price: 43 }]);
    await expect(run(program([src()], [out("big", Row)], route), env, { outOverrides: { nope: "x" } })).rejects.toBeInstanceOf(UsageError);
  });

  it("CSV file outputs get a header even with no rows", async () => {
    const env = createMemoryEnv({ files: { "bids.jsonl": "" } });
    await run(program([src()], [out("o", Row, { kind: "file", path: "o.csv", format: "csv" })]), env);
    expect(env.output("o.csv")).toBe("auction,price\n");
  });

  it("rows emitted at finish (emit final) come after the streamed ones", async () => {
    const env = createMemoryEnv({ files: { "bids.jsonl": bids } });
    const Count = rec({ n: int });
    let n = 0;
    const p = program([src()], [out("live", Row), out("total", Count)], (ctx, _i, r) => {
      n++;
      if (r.price > 800) ctx.emit[0]!(r);
    }, { onFinish: (ctx) => ctx.emit[1]!({ n }) });
    await run(p, env);
    expect(env.stdoutText().trimEnd().split("\n").at(-1)).toBe('total\t{"n":25}');
  });

  it("late records are counted and written to the late file", async () => {
    const env = createMemoryEnv({ files: { "bids.jsonl": bids } });
    const p = program([src()], [out("o", Row)], (ctx, _i, r) => {
      if (r.price < 150) ctx.late(r, Bid);
    });
    const s = await run(p, env, { lateFile: "late.jsonl" });
    expect(s.late).toBe(4);
    expect(env.output("late.jsonl")!.split("\n")[0]).toBe('{"auction":1003,"bidder":5005,"price":43,"channel":"Facebook","dateTime":"2026-01-01T00:00:03.500Z"}');
  });
});

describe("runProgram: control", () => {
  it("an abort ends the input; the run still finishes and flushes", async () => {
    const controller = new AbortController();
    let n = 0;
    async function* endless() {
      for (let i = 0; ; i++) {
        yield { id: String(i), t: i };
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    const p = program([source("e", Ev, file("x"), { field: "t", delayMs: 0 })], [out("o", Ev)], (ctx, _i, r) => {
      ctx.emit[0]!(r);
      if (++n === 5) controller.abort();
    });
    const env = createMemoryEnv();
    const s = await run(p, env, { sourceOverrides: { e: endless() }, signal: controller.signal });
    expect(s.totalIn).toBe(5);
    expect(p.calls.slice(-2)).toEqual([["advance", 0, Infinity], ["finish"]]);
    expect(env.stdoutText().trimEnd().split("\n")).toHaveLength(5);
  });

  it("an abort from a timer stops a source that never waits (a synchronous endless generator)", async () => {
    function* endless() {
      for (let i = 0; ; i++) yield { id: String(i), t: i };
    }
    const p = program([source("e", Ev, file("x"), { field: "t", delayMs: 0 })], [out("o", Ev)]);
    const s = await run(p, createMemoryEnv(), { sourceOverrides: { e: endless() }, signal: AbortSignal.timeout(50) });
    expect(s.totalIn).toBeGreaterThan(0);
    expect(p.calls.slice(-2)).toEqual([["advance", 0, Infinity], ["finish"]]);
  });

  it("shows a progress line on a terminal and clears it", async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `{"id":"${i}","t":${i}}`).join("\n");
    const env = createMemoryEnv({ files: { "a.jsonl": lines }, chunkSize: 1000, stderrIsTTY: true });
    let clock = 0;
    const slowEnv: Env = { ...env, now: () => (clock += 100) };
    await runProgram(program([source("a", Ev, file("a.jsonl"), { field: "t", delayMs: 0 })], []), { env: slowEnv });
    const err = env.stderrText();
    expect(err).toMatch(/\r\x1b\[Kflowc: \d+ KB of \d+ KB \(\d+%\), [\d.]+k? events\/s/);
    expect(err).toMatch(/\r\x1b\[Kflowc: 2000 in \(a 2000\)/); // cleared before the summary
  });
});

describe("runProgram: memory", () => {
  it("streams 50 MB of JSONL through a graph in bounded memory", async () => {
    const enc = new TextEncoder();
    const total = 50 << 20;
    // A generated file: chunks are produced on demand, never all in memory.
    async function* generate(): AsyncGenerator<Uint8Array> {
      let produced = 0;
      let i = 0;
      while (produced < total) {
        let s = "";
        while (s.length < 1 << 20) {
          s += `{"auction":${1000 + (i % 50)},"bidder":${i},"price":${i % 997},"channel":"channel-${i % 10}","dateTime":${1.7e12 + i}}\n`;
          i++;
        }
        const bytes = enc.encode(s);
        produced += bytes.length;
        yield bytes;
      }
    }
    const base = createMemoryEnv();
    let written = 0;
    let drains = 0;
    let pending = 0;
    // A slow sink: asks for a drain every 1 MB (as a Node stream would).
    const sink = {
      write(text: string) {
        written += text.length;
        pending += text.length;
        return pending < 1 << 20;
      },
      async drain() {
        drains++;
        pending = 0;
        await new Promise((r) => setTimeout(r, 0));
      },
      close: async () => {},
    };
    const env: Env = { ...base, stdout: sink, openInput: async () => ({ chunks: generate(), size: total }) };
    // A real collection before each sample, so the numbers are live data, not garbage.
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const startHeap = process.memoryUsage().heapUsed;
    let peak = 0;
    let n = 0;
    const p = program([source("bids", Bid, file("big.jsonl"), { field: "dateTime", delayMs: 0 })], [out("o", Bid)], (ctx, _i, r) => {
      ctx.emit[0]!(r);
      if (++n % 100_000 === 0) {
        gc();
        peak = Math.max(peak, process.memoryUsage().heapUsed - startHeap);
      }
    }, { record: false });
    const s = await run(p, env);
    expect(s.totalIn).toBeGreaterThan(400_000);
    expect(written).toBeGreaterThan(40 << 20);
    expect(drains).toBeGreaterThan(10);
    // Live data stays at a batch or two (a few MB); keeping the records would be ~100 MB.
    expect(peak).toBeLessThan(32 << 20);
  });
});
