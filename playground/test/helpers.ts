// Test helpers: compile a program as the page does and load its JS as the worker does (from a
// module file instead of a Blob URL), against the runtime entry of the playground bundle.
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { PlaygroundCompiler, type CompileOutput } from "../src/compiler";
import type { Program } from "../../runtime/src/contract";
import * as runtime from "../src/runtime";
import { runTraced, type RunResult } from "../src/trace";

export const RUNTIME_ENTRY = resolve(__dirname, "../src/runtime.ts");
export const EXAMPLES = resolve(__dirname, "../examples");
const dir = mkdtempSync(join(tmpdir(), "flow-pg-"));
let n = 0;

export function compileForTest(source: string): CompileOutput {
  return new PlaygroundCompiler({ runtimeUrl: RUNTIME_ENTRY }).compile(source);
}

export async function loadProgram(js: string): Promise<Program> {
  const file = join(dir, `p${n++}.mjs`);
  writeFileSync(file, js);
  const mod = await import(/* @vite-ignore */ file);
  return mod.program as Program;
}

export async function runSource(source: string, files: Record<string, string>, limits = { maxRows: 1000, maxTrace: 10000 }): Promise<{ c: CompileOutput; r: RunResult }> {
  const c = compileForTest(source);
  if (!c.result.ok) throw new Error(c.diagnosticsText);
  const program = await loadProgram(c.result.typescript!);
  const r = await runTraced(runtime, program, files, c.ops, limits);
  return { c, r };
}

/** An example folder's program and data files. */
export function example(name: string): { program: string; files: Record<string, string> } {
  const d = join(EXAMPLES, name);
  const files: Record<string, string> = {};
  for (const f of readdirSync(d)) if (f !== "program.flow") files[f] = readFileSync(join(d, f), "utf8");
  return { program: readFileSync(join(d, "program.flow"), "utf8"), files };
}
