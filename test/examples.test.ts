// The programs of examples/: each compiles without errors (some NEXMark queries warn about
// unbounded state, on purpose), and an example with an
// `expected.jsonl` beside it runs (bin/flowc, in its folder) to exactly those rows. Every example
// with a program has `test` blocks (§14); `flowc test` passing them all is in the stress set
// (examples.stress.test.ts, for npm test's time budget).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import { ensureCli, examplePrograms, flowc } from "./helpers";

const programs = examplePrograms();

beforeAll(() => ensureCli());

describe("examples", () => {
  it("are found", () => {
    expect(programs.map((p) => p.name)).toContain("sensor-jumps/sensor-jumps.flow");
    expect(programs.map((p) => p.name)).toContain("live/clickstream/clicks.flow");
  });
  for (const p of programs) {
    // q102 explains why that query cannot be written: it has no program to test.
    if (p.name !== "nexmark/q102.flow") {
      it(`${p.name} has a test block`, () => {
        const r = compile(readFileSync(join(p.dir, p.file), "utf8"), { file: p.file, checkOnly: true });
        expect(r.typed?.tests.length ?? 0).toBeGreaterThan(0);
      });
    }
    it(`${p.name} compiles`, () => {
      const r = compile(readFileSync(join(p.dir, p.file), "utf8"), { file: p.file });
      expect(r.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.code} ${d.message}`)).toEqual([]);
      expect(r.ok).toBe(true);
    });
    const expected = join(p.dir, "expected.jsonl");
    if (!existsSync(expected)) continue;
    it(`${p.name} runs to expected.jsonl`, async () => {
      const r = await flowc(["run", p.file], { cwd: p.dir });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe(readFileSync(expected, "utf8"));
    });
  }
});
