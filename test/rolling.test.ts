// Rolling aggregates end to end (LANGUAGE.md §13): a compiled program, run by the driver over
// files with random disorder, gives exactly what a brute force computes over the input sorted by
// (time, arrival), leaving out the records that arrive below the watermark (late).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import { bundle } from "../compiler/src/cli/bundle";
import { createMemoryEnv, runProgram, type Program } from "../runtime/src/index";

const DELAY = 5;
const PROGRAM = `type R = { k: string, v: int?, t: time }
source rs: R = file("rs.jsonl") event time t watermark ${DELAY}ms

emit rs
  | group by k
  | extend s = sum(v) over 20ms, hi = max(v) over 3 rows, n = count() over 10ms, f = first(v) over 15ms, prev = lag(v), p2 = lag(v, 2)
  | select k, t, s, hi, n, f, prev, p2
`;

interface Rec {
  k: string;
  v: number | null;
  t: number;
}

/** The rows the program must print: every call recomputed over the key's earlier records. */
function bruteForce(records: Rec[]): string[] {
  const order = records.map((r, i) => ({ r, i })).sort((a, b) => a.r.t - b.r.t || a.i - b.i).map((x) => x.r);
  return order.map((r, i) => {
    const prior = order.slice(0, i + 1).filter((x) => x.k === r.k);
    const values = (frame: Rec[]) => frame.map((x) => x.v).filter((v): v is number => v !== null);
    const s = values(prior.filter((x) => x.t > r.t - 20));
    const hi = values(prior.slice(-3));
    const f = values(prior.filter((x) => x.t > r.t - 15));
    const back = (n: number) => (prior.length > n ? prior[prior.length - 1 - n]!.v : null);
    return JSON.stringify({
      k: r.k,
      t: r.t,
      s: s.length ? s.reduce((a, b) => a + b, 0) : null,
      hi: hi.length ? Math.max(...hi) : null,
      n: prior.filter((x) => x.t > r.t - 10).length,
      f: f[0] ?? null,
      prev: back(1),
      p2: back(2),
    });
  });
}

let dir: string;
let program: Program;

beforeAll(async () => {
  const r = compile(PROGRAM, { file: "rs.flow" });
  expect(r.diagnostics).toEqual([]);
  const { code } = await bundle(r.typescript!, { resolveDir: process.cwd(), main: false });
  dir = mkdtempSync(join(tmpdir(), "flowc-rolling-"));
  const file = join(dir, "m.mjs");
  writeFileSync(file, code);
  program = ((await import(pathToFileURL(file).href)) as { program: Program }).program;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("rolling extend end to end", () => {
  it("equals a brute force over (time, arrival) order, whatever the disorder", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            k: fc.constantFrom("a", "b"),
            v: fc.option(fc.integer({ min: -9, max: 9 }), { freq: 6 }),
            step: fc.integer({ min: 0, max: 3 }),
            back: fc.integer({ min: 0, max: DELAY + 2 }), // beyond the delay: sometimes late
          }),
          { maxLength: 40 },
        ),
        async (gen) => {
          let clock = 0;
          const input: Rec[] = gen.map((g) => ({ k: g.k, v: g.v, t: (clock += g.step) - g.back }));
          // The source's watermark as the driver computes it: largest time so far − delay.
          let max = -Infinity;
          const onTime = input.filter((r) => {
            const ok = r.t >= max - DELAY;
            max = Math.max(max, r.t);
            return ok;
          });
          const rows: string[] = [];
          const summary = await runProgram(program, {
            env: createMemoryEnv({ files: { "rs.jsonl": input.map((r) => JSON.stringify(r)).join("\n") } }),
            onRow: { out1: (row) => rows.push(JSON.stringify(row)) },
            summary: false,
          });
          expect(summary.late).toBe(input.length - onTime.length);
          expect(rows).toEqual(bruteForce(onTime));
        },
      ),
      { numRuns: Number(process.env.PROPERTY_RUNS ?? 60) },
    );
  });
});
