// The checkpoint guarantee (LANGUAGE.md §12) as a property over the fixture corpus: for a random
// valid fixture and a random crash point, a run that dies at that point and is restored from its
// last checkpoint writes exactly the output files of one uninterrupted run. In process and in
// memory (bounded in time, part of `npm test`); the kill -9 version with real processes is
// test/checkpoint-kill.stress.test.ts.
//
// A crash: the checkpoint storage fails its k-th write, which stops the run then and there (the
// outputs may hold rows past the last checkpoint, as after kill -9); the restored run starts
// from checkpoint k − 1 in the same files. Inputs are read in 64-byte chunks and a checkpoint is
// taken after every batch, so a fixture has many crash points.
import fc from "fast-check";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import type { CheckpointStorage, Program } from "../runtime/src/index";
import { fixtureCases, nativeImport, readIf, removeSharedRuntime, sharedRuntime, testDir } from "./helpers";

afterAll(() => removeSharedRuntime());

/** Valid fixtures that read only files (no stdin, generators or TypeScript imports) and write rows. */
const CASES = fixtureCases().filter((c) => c.kind === "valid" && !/\b(stdin|nexmark)\s*\(/.test(c.source) && !/^\s*import\b/m.test(c.source) && (readIf(join(c.dir, "output.jsonl")) ?? "").length > 0);

let work: string | undefined;
const modules = new Map<string, Program>();

async function programOf(name: string): Promise<Program> {
  const known = modules.get(name);
  if (known) return known;
  const c = CASES.find((x) => x.name === name)!;
  const { url } = await sharedRuntime();
  const r = compile(c.source, { file: "input.flow", runtime: url, ops: url, stdlib: url });
  expect(r.ok, `${name} compiles`).toBe(true);
  const esbuild = await import("esbuild");
  const { code } = await esbuild.transform(r.typescript!, { loader: "ts", format: "esm", target: "es2022" });
  const file = join((work ??= testDir("ck-property-")), `${name}.mjs`);
  writeFileSync(file, code);
  const p = ((await nativeImport(pathToFileURL(file).href)) as { program: Program }).program;
  modules.set(name, p);
  return p;
}

/** A storage that fails its `failAt`-th write (a crash) and keeps what was written before. */
function crashingStorage(failAt: number): CheckpointStorage & { writes: number; crashed: boolean; arm(n: number): void } {
  let text: string | undefined;
  let limit = failAt;
  const s = {
    where: "<memory>",
    writes: 0,
    crashed: false,
    arm(n: number) {
      limit = n;
    },
    async read() {
      return text;
    },
    async write(t: string) {
      s.writes++;
      if (s.writes === limit) {
        s.crashed = true;
        throw new Error("the machine went down");
      }
      text = t;
    },
    async remove() {
      text = undefined;
    },
  };
  return s;
}

describe("checkpoints over the fixture corpus", () => {
  it("has fixtures to try", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(10);
  });

  it("a run that crashes at a random checkpoint and is restored writes one run's output files", async () => {
    const { rt } = await sharedRuntime();
    let restored = 0;
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CASES.map((c) => c.name)), fc.integer({ min: 1, max: 12 }), async (name, failAt) => {
        const c = CASES.find((x) => x.name === name)!;
        const program = await programOf(name);
        const files: Record<string, string> = {};
        for (const f of readdirSync(c.dir)) if (f !== "input.flow") files[f] = readFileSync(join(c.dir, f), "utf8");
        const outOverrides = Object.fromEntries(program.outputs.map((o) => [o.name, `out/${o.name}.jsonl`]));
        const outputsOf = (env: { files: Map<string, string | Uint8Array> }) =>
          Object.fromEntries([...env.files].filter(([p]) => p.startsWith("out/")).map(([p, v]) => [p, typeof v === "string" ? v : new TextDecoder().decode(v)]));
        const options = { baseDir: ".", summary: false, progress: false, outOverrides } as const;

        const plain = rt.createMemoryEnv({ files, chunkSize: 64 });
        await rt.runProgram(program, { ...options, env: plain }).catch(() => {});
        const expected = outputsOf(plain);

        const env = rt.createMemoryEnv({ files, chunkSize: 64 });
        const storage = crashingStorage(failAt);
        const first = await rt.runProgram(program, { ...options, env, checkpoint: { storage, everyMs: 0 } }).then(() => "done", (e: Error) => e.message);
        if (storage.crashed) {
          expect(first).toContain("the machine went down");
          storage.arm(-1);
          const second = await rt.runProgram(program, { ...options, env, checkpoint: { storage, everyMs: 0 } });
          if (second.checkpoint?.restored === true) restored++;
        } else expect(first).toBe("done"); // fewer checkpoints than failAt: it completed
        expect(outputsOf(env)).toEqual(expected);
      }),
      { numRuns: 30, seed: Number(process.env.FC_SEED ?? Date.now() % 100_000), endOnFailure: true },
    );
    // Most crash points fall inside the runs (a fixture has 2–60 batches): restores happened.
    expect(restored).toBeGreaterThanOrEqual(5);
  }, 120_000);
});
