// The driver over the memory environment where names, sinks and readers misbehave: names that
// are Object.prototype properties, sinks that fail (disk full), a stdout whose reader went away,
// CSV headers without a declared column, and the late-record warning.
import { describe, expect, it } from "vitest";
import type { Program, RecordSchema, Schema } from "./contract.js";
import { InputFormatError, lateWarning, OutputError, runProgram, UsageError } from "./driver.js";
import { createMemoryEnv, type Env, type OutputSink } from "./env.js";
import { streamProgram } from "./streams.js";

const int: Schema = { kind: "int" };
const str: Schema = { kind: "string" };
const rec = (fields: Record<string, Schema>): RecordSchema => ({ kind: "record", fields: Object.entries(fields).map(([name, type]) => ({ name, type })) });
const Ev = rec({ k: str, v: int });
const PROTO_NAMES = Object.getOwnPropertyNames(Object.prototype);

/** `emit OUT = SRC` for one source and one output. */
function passThrough(src: string, out: string, connector: Program["sources"][number]["connector"], outConnector?: Program["outputs"][number]["connector"]): Program {
  return {
    file: "p.flow",
    sources: [{ name: src, schema: Ev, connector }],
    tables: [],
    outputs: [{ name: out, schema: Ev, final: false, ...(outConnector && { connector: outConnector }) }],
    create: (ctx) => ({ push: [(r) => ctx.emit[0]!(r)], advance() {}, finish() {} }),
  };
}

describe("names that are Object.prototype properties", () => {
  it("work as source and output names, with --out, onRow and sourceOverrides", async () => {
    for (const name of PROTO_NAMES) {
      const other = name === "toString" ? "valueOf" : "toString";
      const file = { kind: "file", path: "in.jsonl", format: "jsonl" } as const;
      const env = createMemoryEnv({ files: { "in.jsonl": '{"k":"a","v":1}\n' } });
      const s = await runProgram(passThrough(name, other, file), { env, summary: false });
      expect(s.in[name], name).toBe(1);
      expect(env.stdoutText()).toBe('{"k":"a","v":1}\n');

      // The source is the output's name's namesake: `--out` for it, and for a prototype name.
      const env2 = createMemoryEnv({ files: { "in.jsonl": '{"k":"a","v":1}\n' } });
      const outOverrides = Object.assign(Object.create(null) as Record<string, string>, { [other]: "o.jsonl" });
      await runProgram(passThrough(name, other, file), { env: env2, summary: false, outOverrides });
      expect(env2.output("o.jsonl")).toBe('{"k":"a","v":1}\n');
      const p = passThrough(other, name, file);
      const env3 = createMemoryEnv({ files: { "in.jsonl": '{"k":"a","v":1}\n' } });
      await expect(runProgram(p, { env: env3, summary: false, outOverrides: { [other]: "x.jsonl" } })).rejects.toBeInstanceOf(UsageError);

      // sourceOverrides and onRow as plain objects that do not have the name: never the inherited value.
      const env4 = createMemoryEnv({ files: { "in.jsonl": '{"k":"b","v":2}\n' } });
      const s4 = await runProgram(passThrough(name, other, file), { env: env4, summary: false, sourceOverrides: {}, onRow: {} });
      expect(s4.totalOut).toBe(1);
      expect(env4.stdoutText()).toBe('{"k":"b","v":2}\n');
      // ... and that do have it.
      const rows: unknown[] = [];
      const overrides = Object.fromEntries([[name, [{ k: "c", v: 3 }]]]);
      const onRow = Object.fromEntries([[other, (r: unknown) => rows.push(r)]]);
      await runProgram(passThrough(name, other, file), { env: createMemoryEnv(), summary: false, sourceOverrides: overrides, onRow });
      expect(rows).toEqual([{ k: "c", v: 3 }]);
    }
  });

  it("streamProgram delivers an output named like a prototype property", async () => {
    for (const name of PROTO_NAMES) {
      const env = createMemoryEnv({ files: { "in.jsonl": '{"k":"a","v":1}\n{"k":"b","v":2}\n' } });
      const { outputs, done } = streamProgram(passThrough("src", name, { kind: "file", path: "in.jsonl", format: "jsonl" }), { env });
      expect(Object.hasOwn(outputs, name), name).toBe(true);
      const rows: unknown[] = [];
      for await (const r of outputs[name]!) rows.push(r);
      await done;
      expect(rows, name).toEqual([{ k: "a", v: 1 }, { k: "b", v: 2 }]);
    }
  });
});

describe("failing sinks", () => {
  const enospc = () => Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" });
  const failingOn = (env: Env, when: "write" | "close"): Env => ({
    ...env,
    openOutput: async (): Promise<OutputSink> => ({
      write: () => {
        if (when === "write") throw enospc();
        return true;
      },
      drain: async () => {},
      close: async () => {
        if (when === "close") throw enospc();
      },
    }),
  });

  it("a write or close that fails is an OutputError (73) naming the output and the path", async () => {
    for (const when of ["write", "close"] as const) {
      const env = failingOn(createMemoryEnv({ files: { "in.jsonl": '{"k":"a","v":1}\n' } }), when);
      const p = passThrough("src", "out1", { kind: "file", path: "in.jsonl", format: "jsonl" }, { kind: "file", path: "o.jsonl", format: "jsonl" });
      const err = await runProgram(p, { env, summary: false }).catch((e) => e);
      expect(err, when).toBeInstanceOf(OutputError);
      expect(err.exitCode).toBe(73);
      expect(err.message).toBe("cannot write output out1 to o.jsonl: no space left on device (ENOSPC)");
    }
  });

  it("refuses an output that is an input, before opening anything", async () => {
    let opened = 0;
    const base = createMemoryEnv({ files: { "in.jsonl": '{"k":"a","v":1}\n' } });
    const env: Env = { ...base, openOutput: (p) => (opened++, base.openOutput(p)), openInput: (p) => (opened++, base.openInput(p)) };
    const p = passThrough("src", "out1", { kind: "file", path: "in.jsonl", format: "jsonl" });
    for (const opts of [{ deadLetter: "in.jsonl" }, { lateFile: "./in.jsonl" }, { outOverrides: { out1: "in.jsonl" } }, { deadLetter: "d.jsonl", lateFile: "d.jsonl" }]) {
      const err = await runProgram(p, { env, summary: false, ...opts }).catch((e) => e);
      expect(err, JSON.stringify(opts)).toBeInstanceOf(UsageError);
    }
    expect(opened).toBe(0);
  });
});

describe("a stdout whose reader went away", () => {
  const big = Array.from({ length: 5000 }, (_, i) => JSON.stringify({ k: "a", v: i })).join("\n") + "\n";
  const twoOutputs = (): Program => ({
    file: "p.flow",
    sources: [{ name: "src", schema: Ev, connector: { kind: "file", path: "in.jsonl", format: "jsonl" } }],
    tables: [],
    outputs: [
      { name: "a", schema: Ev, final: false },
      { name: "b", schema: Ev, final: false, connector: { kind: "file", path: "b.jsonl", format: "jsonl" } },
    ],
    create: (ctx) => ({ push: [(r) => (ctx.emit[0]!(r), ctx.emit[1]!(r))], advance() {}, finish() {} }),
  });
  const brokenStdout = (env: ReturnType<typeof createMemoryEnv>): Env => ({ ...env, stdout: { write: () => true, drain: async () => {}, close: async () => {}, broken: true } });

  it("files are still complete", async () => {
    const env = createMemoryEnv({ files: { "in.jsonl": big }, chunkSize: 1000 });
    const s = await runProgram(twoOutputs(), { env: brokenStdout(env), summary: false });
    expect(s.totalIn).toBe(5000);
    expect(env.output("b.jsonl")!.split("\n").filter(Boolean)).toHaveLength(5000);
  });

  it("with only stdout outputs the run stops", async () => {
    const env = createMemoryEnv({ files: { "in.jsonl": big }, chunkSize: 1000 });
    const p = passThrough("src", "out1", { kind: "file", path: "in.jsonl", format: "jsonl" });
    const s = await runProgram(p, { env: brokenStdout(env), summary: false });
    expect(s.totalIn).toBeLessThan(5000);
  });
});

describe("CSV headers", () => {
  it("a missing non-optional column fails once, before any row (65); a missing optional one is null", async () => {
    const T = rec({ k: str, v: int, note: { kind: "optional", inner: str } });
    const p: Program = {
      file: "p.flow",
      sources: [{ name: "ev", schema: T, connector: { kind: "file", path: "h.csv", format: "csv" } }],
      tables: [],
      outputs: [{ name: "out1", schema: T, final: false }],
      create: (ctx) => ({ push: [(r) => ctx.emit[0]!(r)], advance() {}, finish() {} }),
    };
    const env = createMemoryEnv({ files: { "h.csv": "k,x\n" + "a,1\n".repeat(100) } });
    const err = await runProgram(p, { env, summary: false }).catch((e) => e);
    expect(err).toBeInstanceOf(InputFormatError);
    expect(err.exitCode).toBe(65);
    expect(err.message).toBe('h.csv: the CSV header lacks column "v" (needed by ev; header: k,x)');
    expect(env.stderrText()).toBe("");
    const ok = createMemoryEnv({ files: { "h.csv": "k,v\na,1\n" } });
    await runProgram(p, { env: ok, summary: false });
    expect(ok.stdoutText()).toBe('{"k":"a","v":1,"note":null}\n');
  });
});

describe("lateWarning", () => {
  const summary = (late: number, totalIn: number) => ({ in: {}, out: {}, totalIn, totalOut: 0, late, bad: 0, elapsedMs: 1, eventsPerSec: 1 });
  const sources = [
    { name: "bids", schema: Ev, connector: { kind: "stdin", format: "jsonl" } as const, eventTime: { field: "t", delayMs: 0 } },
    { name: "other", schema: Ev, connector: { kind: "stdin", format: "jsonl" } as const },
  ];
  it("warns above a tenth, naming the event-time sources", () => {
    expect(lateWarning(summary(34, 100), { sources })).toBe("flowc: warning: 34% of records were late (dropped); consider a larger watermark on source bids");
    expect(lateWarning(summary(10, 100), { sources })).toBeUndefined();
    expect(lateWarning(summary(0, 0), { sources })).toBeUndefined();
  });
});
