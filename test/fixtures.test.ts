// Golden-file fixtures: test/fixtures/<case>/input.flow (+ input data next to it).
//   e_*  programs with errors: diagnostics.txt holds the rendered diagnostics, nothing else.
//   w_*  programs that compile with warnings: diagnostics.txt + generated.ts + graph.txt (+ output).
//   v_*  (anything else) valid programs: no diagnostics; generated.ts, graph.txt, output.jsonl.
// output.jsonl is the stdout of `bin/flowc run input.flow` in the fixture folder; programs reading
// stdin() or nexmark(...) are not run. Most fixtures run in this process, as `flowc run` does it
// (the same generated TypeScript, compiled by esbuild, run by runProgram) but against one shared
// runtime bundle and with the folder's files in memory; a few, and every program importing
// TypeScript files, still go through bin/flowc itself. `UPDATE=1 npx vitest run test/fixtures.test.ts` rewrites
// every golden file (and deletes those a case should not have).
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import { renderDiagnostics } from "../compiler/src/diagnostics/render";
import { printGraph } from "../compiler/src/ir/print";
import { resolveExterns } from "../compiler/src/cli/externs";
import type { Program } from "../runtime/src/index";
import { fixtureCases, flowc, nativeImport, readIf, removeSharedRuntime, sharedRuntime, testDir, type CliResult, type FixtureCase } from "./helpers";

const UPDATE = !!process.env.UPDATE && process.env.UPDATE !== "0";

/** Compares (or with UPDATE writes) one golden file; `actual === undefined` means "must not exist". */
function golden(c: FixtureCase, file: string, actual: string | undefined) {
  const path = join(c.dir, file);
  if (UPDATE) {
    if (actual === undefined) rmSync(path, { force: true });
    else writeFileSync(path, actual);
    return;
  }
  const expected = readIf(path);
  if (actual === undefined) {
    expect(expected, `${c.name}/${file} should not exist (run with UPDATE=1)`).toBeUndefined();
    return;
  }
  expect(expected, `${c.name}/${file} is missing (run with UPDATE=1)`).toBeDefined();
  expect(actual, `${c.name}/${file}`).toBe(expected);
}

async function compileFixture(c: FixtureCase) {
  // The same steps as the CLI: TypeScript imports are typed from their files.
  const externs = await resolveExterns(c.source, c.dir);
  return compile(c.source, { file: "input.flow", externs: externs.signatures, diagnostics: externs.diagnostics });
}

const runnable = (c: FixtureCase) => !/\b(stdin|nexmark)\s*\(/.test(c.source);

/** Fixtures run through bin/flowc itself: a few plain ones, and those importing TypeScript files. */
const THROUGH_CLI = new Set(["v_hop_top", "v_interval_join", "v_lookup_csv"]);
const throughCli = (c: FixtureCase) => THROUGH_CLI.has(c.name) || /^\s*import\b/m.test(c.source);

let work: string | undefined;
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  removeSharedRuntime();
});

/**
 * `flowc run input.flow` in this process: the generated TypeScript (importing the shared runtime
 * bundle instead of bundling its own copy) compiled to JavaScript by esbuild, and runProgram with
 * the fixture folder's files in a memory environment. The exit code is the RunError's, as the CLI's.
 */
async function runInProcess(c: FixtureCase): Promise<CliResult> {
  const { url, rt } = await sharedRuntime();
  const externs = await resolveExterns(c.source, c.dir);
  const r = compile(c.source, { file: "input.flow", externs: externs.signatures, diagnostics: externs.diagnostics, runtime: url, ops: url, stdlib: url });
  const warnings = r.diagnostics.length ? renderDiagnostics(r.diagnostics, "input.flow", c.source, { color: false }) + "\n" : "";
  if (!r.ok) return { code: 1, stdout: "", stderr: warnings };
  const esbuild = await import("esbuild");
  const { code: js } = await esbuild.transform(r.typescript!, { loader: "ts", format: "esm", target: "es2022", sourcefile: "generated.ts" });
  const file = join((work ??= testDir("fixtures-")), `${c.name}.mjs`);
  writeFileSync(file, js);
  const mod = (await nativeImport(pathToFileURL(file).href)) as { program: Program };
  const files: Record<string, string> = {};
  for (const f of readdirSync(c.dir)) if (f !== "input.flow") files[f] = readFileSync(join(c.dir, f), "utf8");
  const env = rt.createMemoryEnv({ files });
  let code = 0;
  try {
    await rt.runProgram(mod.program, { env, baseDir: ".", summary: false, progress: false });
  } catch (err) {
    const exitCode = (err as { exitCode?: number }).exitCode;
    if (typeof exitCode !== "number") return { code: 70, stdout: env.stdoutText(), stderr: `${warnings}${env.stderrText()}flowc: internal error: ${(err as Error)?.message ?? String(err)}\n` };
    code = exitCode;
  }
  return { code, stdout: env.stdoutText(), stderr: warnings + env.stderrText() };
}

const cases = fixtureCases();

describe("fixtures", () => {
  it("has enough fixtures of each kind", () => {
    expect(cases.filter((c) => c.kind === "error").length + cases.filter((c) => c.kind === "warning").length).toBeGreaterThanOrEqual(40);
    expect(cases.filter((c) => c.kind === "valid").length).toBeGreaterThanOrEqual(20);
  });

  it("have no stray golden files", () => {
    for (const c of cases) {
      for (const f of readdirSync(c.dir)) {
        if (f.startsWith("out.") || f.startsWith("late") || f.startsWith("dead")) throw new Error(`${c.name}: leftover output file ${f}`);
      }
    }
  });

  for (const c of cases) {
    describe(c.name, () => {
      it("compiles to the golden diagnostics, code and graph", async () => {
        const r = await compileFixture(c);
        const errors = r.diagnostics.filter((d) => d.severity === "error");
        expect(r.diagnostics.filter((d) => d.code === "E9999"), "internal compiler error").toEqual([]);
        for (const d of r.diagnostics) {
          expect(d.span.start, `${d.code} span start`).toBeGreaterThanOrEqual(0);
          expect(d.span.end, `${d.code} span end`).toBeGreaterThanOrEqual(d.span.start);
          expect(d.span.end, `${d.code} span end`).toBeLessThanOrEqual(c.source.length);
        }
        const rendered = r.diagnostics.length ? renderDiagnostics(r.diagnostics, "input.flow", c.source, { color: false }) + "\n" : undefined;
        if (c.kind === "error") {
          expect(r.ok, "an e_ fixture must not compile").toBe(false);
          expect(errors.length).toBeGreaterThan(0);
          // A rejected program never reaches the code generator.
          expect(r.typescript).toBeUndefined();
          golden(c, "diagnostics.txt", rendered);
          golden(c, "generated.ts", undefined);
          golden(c, "graph.txt", undefined);
          golden(c, "output.jsonl", undefined);
          return;
        }
        expect(errors.map((d) => d.message), "unexpected errors").toEqual([]);
        expect(r.ok).toBe(true);
        if (c.kind === "warning") expect(r.diagnostics.length, "a w_ fixture must have warnings").toBeGreaterThan(0);
        else expect(r.diagnostics.map((d) => `${d.code} ${d.message}`), "a valid fixture must have no diagnostics").toEqual([]);
        golden(c, "diagnostics.txt", rendered);
        golden(c, "generated.ts", r.typescript);
        golden(c, "graph.txt", printGraph(r.optimized!));
      });

      if (c.kind !== "error" && runnable(c)) {
        it.concurrent(`runs to the golden output${throughCli(c) ? " (bin/flowc run)" : ""}`, async () => {
          const r = throughCli(c) ? await flowc(["run", "input.flow"], { cwd: c.dir }) : await runInProcess(c);
          expect(r.stderr).not.toMatch(/internal error/);
          expect(r.code, r.stderr).toBe(0);
          golden(c, "output.jsonl", r.stdout);
        });
      } else if (c.kind !== "error") {
        it("is not run (reads stdin or nexmark)", () => {
          expect(existsSync(join(c.dir, "output.jsonl")) && !UPDATE).toBe(false);
        });
      }
    });
  }
});
