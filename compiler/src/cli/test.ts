// `flowc test FILE...` (LANGUAGE.md §14): compiles each program, bundles it once, and runs each of
// its `test` blocks through the normal runtime in virtual time — inputs from the test's literals
// (or files), every output's changelog captured in memory — then judges the result
// (compiler/src/testing/run.ts). One line per test, the differences under a failed one, and the
// summary line `N passed, M failed`; exit 1 when a test fails or a program does not compile.
import { readFileSync, rmSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { compile, isInternalError } from "../pipeline";
import { LineIndex, renderDiagnostics } from "../diagnostics/render";
import { runTest, testSummary, type TestRuntime } from "../testing/run";
import { bundle } from "./bundle";
import { resolveExterns } from "./externs";
import type { Program } from "../../../runtime/src/contract";

export interface TestIo {
  out(text: string): void;
  err(text: string): void;
  color: boolean;
}

/** Runs the tests of `files`; the exit code (0 all passed, 1 a failure or a compile error, 70 internal). */
export async function runTestFiles(files: readonly string[], io: TestIo): Promise<number> {
  const { runProgram } = await import("../../../runtime/src/driver");
  const { createMemoryEnv } = await import("../../../runtime/src/env");
  let passed = 0, failed = 0, exit = 0;
  const paint = (code: string, s: string) => (io.color ? `\x1b[${code}m${s}\x1b[0m` : s);
  for (const file of files) {
    const path = resolve(file);
    let source: string;
    try {
      source = readFileSync(path, "utf8");
    } catch (e) {
      io.err(`flowc: cannot read ${file}: ${(e as Error).message.split("\n")[0]}\n`);
      exit = Math.max(exit, 1);
      failed++;
      continue;
    }
    const baseDir = dirname(path);
    const externs = await resolveExterns(source, baseDir);
    const r = compile(source, { file: basename(file), externs: externs.signatures, diagnostics: externs.diagnostics });
    const errors = r.diagnostics.filter((d) => d.severity === "error");
    if (!r.ok) {
      io.err(renderDiagnostics(errors, file, source, { color: io.color }) + "\n");
      io.out(`${paint("31", "FAIL")} ${file}: does not compile (${errors.length} error${errors.length === 1 ? "" : "s"})\n`);
      exit = Math.max(exit, isInternalError(r) ? 70 : 1);
      failed++;
      continue;
    }
    const tests = r.typed!.tests;
    if (tests.length === 0) {
      io.out(`${paint("33", "none")} ${file}: no tests\n`);
      continue;
    }
    const dir = mkdtempSync(join(tmpdir(), "flowc-test-"));
    let program: Program;
    try {
      const bundled = await bundle(r.typescript!, { resolveDir: baseDir, main: false });
      const moduleFile = join(dir, "program.mjs");
      writeFileSync(moduleFile, bundled.code);
      program = ((await import(pathToFileURL(moduleFile).href)) as { program: Program }).program;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const lines = new LineIndex(source);
    // The runtime's own functions: TestRuntime describes them structurally (testing/ imports no runtime).
    const rt = { runProgram, createMemoryEnv } as unknown as TestRuntime<Program>;
    for (const test of tests) {
      const started = performance.now();
      const files: Record<string, string | Uint8Array> = Object.create(null) as Record<string, string | Uint8Array>;
      for (const input of test.inputs) {
        if (input.data !== "file") continue;
        try {
          files[input.path] = readFileSync(resolve(baseDir, input.path));
        } catch {
          // runTest reports the file as missing.
        }
      }
      const outcome = await runTest(rt, program, test, files, { lineOf: (o) => lines.at(o).line });
      const ms = Math.round(performance.now() - started);
      const where = `${file}:${lines.at(test.span.start).line}`;
      if (outcome.passed) {
        passed++;
        io.out(`${paint("32", "pass")} ${where} ${JSON.stringify(test.name)} (${ms} ms)\n`);
      } else {
        failed++;
        exit = Math.max(exit, 1);
        io.out(`${paint("31", "FAIL")} ${where} ${JSON.stringify(test.name)}\n`);
        for (const f of outcome.failures) io.out(f.split("\n").map((l) => `     ${l}`).join("\n") + "\n");
      }
    }
  }
  io.out(testSummary(passed, failed) + "\n");
  return exit;
}
