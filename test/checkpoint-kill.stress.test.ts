// The checkpoint guarantee (LANGUAGE.md §12) with real processes: a built program run with
// `--checkpoint`, killed with SIGKILL at random moments and restarted until it completes, writes
// output files byte-identical to one uninterrupted run — for programs that together use every
// operator that keeps state (checkpoint-cases.ts). One more case goes through `flowc run` itself.

import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { CHECKPOINT_PROGRAMS, RUN_FLAGS, writeCheckpointData } from "./checkpoint-cases";
import { FLOWC, flowc, node, testDir } from "./helpers";
import { killUntilDone } from "./kill";
import { writeFileSync } from "node:fs";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** Every file under out/ of `dir`, by name. */
function outputsOf(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(join(dir, "out")).sort()) out.set(f, readFileSync(join(dir, "out", f), "utf8"));
  return out;
}

describe("checkpoints survive kill -9", () => {
  for (const [name, source] of Object.entries(CHECKPOINT_PROGRAMS)) {
    it(`${name}: killed runs restarted from their checkpoint write exactly one run's output`, async () => {
      const base = testDir(`ck-kill-${name}-`);
      dirs.push(base);
      writeFileSync(join(base, "p.flow"), source);
      writeCheckpointData(base, 60_000);
      const built = await flowc(["build", join(base, "p.flow"), "-o", join(base, "p.mjs")]);
      expect(built.code, built.stderr).toBe(0);
      // The uninterrupted run, without --checkpoint.
      const ref = join(base, "ref");
      mkdirSync(ref);
      cpSync(join(base, "e.jsonl"), join(ref, "e.jsonl"));
      cpSync(join(base, "r.csv"), join(ref, "r.csv"));
      const plain = await node([join(base, "p.mjs"), "--base-dir", ref, ...RUN_FLAGS], { cwd: ref });
      expect(plain.code, plain.stderr).toBe(0);
      const expected = outputsOf(ref);
      for (const seed of [1, 2]) {
        const dir = join(base, `run${seed}`);
        mkdirSync(dir);
        cpSync(join(base, "e.jsonl"), join(dir, "e.jsonl"));
        cpSync(join(base, "r.csv"), join(dir, "r.csv"));
        const args = [join(base, "p.mjs"), "--base-dir", dir, ...RUN_FLAGS, "--checkpoint", "ck", "--checkpoint-every", "25ms"];
        const { killed, resumed } = await killUntilDone(process.execPath, args.filter((a) => a !== "--quiet"), dir, 5, seed * 7919 + name.length, undefined, join(dir, "ck", "checkpoint"));
        // Up to 5 kills: on a fast machine a resumed run may finish before its kill comes.
        expect(killed).toBeGreaterThanOrEqual(1);
        // The run that completed continued a checkpoint of a killed one.
        expect(resumed).toBe(true);
        const got = outputsOf(dir);
        expect([...got.keys()]).toEqual([...expected.keys()]);
        for (const [f, text] of expected) expect(got.get(f) === text, `${name} run ${seed}: out/${f} differs`).toBe(true);
        // Starting again with the finished checkpoint writes nothing.
        const again = await node([join(base, "p.mjs"), "--base-dir", dir, ...RUN_FLAGS.filter((f) => f !== "--quiet"), "--checkpoint", "ck"], { cwd: dir });
        expect(again.code).toBe(0);
        expect(again.stderr).toContain("nothing to do");
        expect(outputsOf(dir)).toEqual(got);
      }
    });
  }

  it("flowc run --checkpoint: killed and restarted, the same output", async () => {
    const dir = testDir("ck-kill-cli-");
    dirs.push(dir);
    writeFileSync(join(dir, "p.flow"), CHECKPOINT_PROGRAMS.windows!);
    writeCheckpointData(dir, 40_000);
    const plain = await flowc(["run", "p.flow", ...RUN_FLAGS], { cwd: dir });
    expect(plain.code, plain.stderr).toBe(0);
    const expected = outputsOf(dir);
    rmSync(join(dir, "out"), { recursive: true });
    const { killed } = await killUntilDone(process.execPath, [FLOWC, "run", "p.flow", ...RUN_FLAGS, "--checkpoint", "ck", "--checkpoint-every", "25ms"], dir, 3, 99, undefined, join(dir, "ck", "checkpoint"));
    expect(killed).toBeGreaterThanOrEqual(1); // up to 3: a resumed run may finish before its kill
    expect(outputsOf(dir)).toEqual(expected);
  });
});
