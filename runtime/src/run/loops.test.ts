// Programs declare their generated loops (Program.loops): the driver then uses exactly those and
// never probes; without the declaration (older built modules) it probes with empty input.
import v8 from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { GraphInstance, Program, ProgramLoops, PullState, RecordSchema, Schema, SourceSpec } from "../contract.js";
import { runProgram } from "../driver.js";
import { createMemoryEnv } from "../env.js";
import { Arrivals } from "./loops.js";

const int: Schema = { kind: "int" };
const Ev: RecordSchema = { kind: "record", fields: [{ name: "n", type: int }] };

/** A hand-written program with all three loops; every loop call is logged, empty ones (probes) too. */
function program(source: SourceSpec, loops: ProgramLoops | undefined) {
  const log: string[] = [];
  const p: Program = {
    file: "loops.flow",
    sources: [source],
    tables: [],
    outputs: [],
    ...(loops && { loops }),
    create(): GraphInstance {
      return {
        push: [(r: any) => void log.push(`push ${typeof r === "number" ? r : r.n}`)],
        advance: () => {},
        finish: () => {},
        pushRange(_i, from, to) {
          log.push(from === to ? "probe range" : `range ${from}..${to}`);
          return true;
        },
        pushBatch(_i, records, _t, maxTime) {
          log.push(records.length === 0 ? "probe batch" : `batch ${records.length}`);
          return maxTime;
        },
        pullBatch(_i, items, max, _t, st: PullState, slow) {
          if (max === 0) {
            log.push("probe pull");
            return true;
          }
          let k = 0;
          for (; k < max; k++) {
            const x = items.next();
            if (x.done) {
              st.done = true;
              break;
            }
            slow(x.value, k);
          }
          st.count += k;
          log.push(`pull ${k}`);
          return true;
        },
      };
    },
  };
  return { p, log };
}

const range: SourceSpec = { name: "r", schema: int, connector: { kind: "range", from: 0, to: 3 } };
const iterable = (items: unknown[]): SourceSpec => ({
  name: "s",
  schema: Ev,
  connector: { kind: "iterable", iterable: items },
  decode: { value: (v) => v },
});
const file: SourceSpec = { name: "f", schema: Ev, connector: { kind: "file", path: "f.jsonl", format: "jsonl" } };
const run = (p: Program) => runProgram(p, { env: createMemoryEnv({ files: { "f.jsonl": '{"n":1}\n{"n":2}\n' } }), summary: false });

describe("Program.loops", () => {
  it("declared loops are used without a probe", async () => {
    const all: ProgramLoops = { range: [0], batch: [0], pull: [0] };
    for (const [src, want] of [
      [range, ["range 0..3"]],
      [iterable([{ n: 1 }, { n: 2 }]), ["pull 2"]],
      [file, ["batch 2"]],
    ] as const) {
      const { p, log } = program(src, all);
      await run(p);
      expect(log).toEqual(want);
    }
  });

  it("a loop the program does not declare is never called: records go through push", async () => {
    const none: ProgramLoops = { range: [], batch: [], pull: [] };
    for (const [src, want] of [
      [range, ["push 0", "push 1", "push 2"]],
      [iterable([{ n: 1 }, { n: 2 }]), ["push 1", "push 2"]],
      [file, ["push 1", "push 2"]],
    ] as const) {
      const { p, log } = program(src, none);
      await run(p);
      expect(log).toEqual(want);
    }
  });

  it("without Program.loops (older modules) the driver probes, as before", async () => {
    for (const [src, want] of [
      [range, ["probe range", "range 0..3"]],
      [iterable([{ n: 1 }]), ["probe pull", "pull 1"]],
      [file, ["probe batch", "batch 2"]],
    ] as const) {
      const { p, log } = program(src, undefined);
      await run(p);
      expect(log).toEqual(want);
    }
  });
});

describe("Arrivals: reads of several live sources awaited together", () => {
  it("gives settled reads in the order they settled, or undefined when the timeout comes first", async () => {
    const a = new Arrivals<string>();
    let quiet!: (v: string) => void;
    a.add(new Promise<string>((r) => (quiet = r)));
    a.add(Promise.resolve("first"));
    expect(await a.next()).toBe("first");
    expect(await a.next(new Promise((r) => setTimeout(r, 5)))).toBeUndefined();
    quiet("late");
    expect(await a.next(new Promise((r) => setTimeout(r, 1000)))).toBe("late");
  });

  it("keeps nothing of what was read while another read stays pending (no reaction per wait on it)", async () => {
    v8.setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const a = new Arrivals<{ batch: number[] }>();
    a.add(new Promise(() => {})); // a source that never speaks
    const refs: WeakRef<object>[] = [];
    for (let i = 0; i < 50; i++) {
      const batch = { batch: new Array(1000).fill(i) };
      refs.push(new WeakRef(batch));
      a.add(Promise.resolve(batch));
      await a.next();
    }
    await new Promise((r) => setTimeout(r, 0));
    gc();
    expect(refs.filter((r) => r.deref() !== undefined).length).toBeLessThanOrEqual(1);
  });
});
