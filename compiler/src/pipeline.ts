// The compiler, phase by phase: parse → check → lower → optimize → plan → emit. Each phase is a pure
// function of the previous one's output; nothing here touches the file system, so the same
// code runs in the CLI and in the browser playground.
import { parse, type ParseResult } from "./syntax/parse";
import { check, type CheckOptions } from "./check/check";
import type { ExternSignature, TypedProgram } from "./check/typed";
import { lower } from "./ir/lower";
import { optimize } from "./optimize/index";
import { plan } from "./plan/plan";
import { emitTypeScript, type EmitOptions } from "./emit/emit";
import type { Graph } from "./ir/graph";
import { diag, hasErrors, type Diagnostic } from "./diagnostics/catalogue";

export interface CompileOptions extends EmitOptions {
  /** The program's file name as the user wrote it (for messages and comments). */
  file?: string;
  externs?: Map<string, ExternSignature>;
  /** Stop after checking (no IR, no code). */
  checkOnly?: boolean;
  /** Diagnostics found before compiling (the CLI's, reading imported TypeScript); errors stop code generation. */
  diagnostics?: Diagnostic[];
  /** The parse of `source`, when the caller already has it (the playground's IncrementalParser). */
  parsed?: ParseResult;
}

export interface CompileResult {
  diagnostics: Diagnostic[];
  ok: boolean;
  parsed?: ParseResult;
  typed?: TypedProgram;
  graph?: Graph;
  optimized?: Graph;
  typescript?: string;
}

export function compile(source: string, options: CompileOptions = {}): CompileResult {
  const file = options.file ?? "program.flow";
  try {
    const parsed = options.parsed ?? parse(source);
    const checkOptions: CheckOptions = { externs: options.externs, poisoned: parsed.poisoned };
    const checked = check(parsed.program, checkOptions);
    const diagnostics = [...(options.diagnostics ?? []), ...parsed.diagnostics, ...checked.diagnostics].sort((a, b) => a.span.start - b.span.start);
    if (hasErrors(diagnostics) || options.checkOnly) return { diagnostics, ok: !hasErrors(diagnostics), parsed, typed: checked.program };
    const graph = lower(checked.program, file);
    const optimized = optimize(graph);
    const planned = plan(optimized, { instrument: options.instrument, source });
    const typescript = emitTypeScript(planned, source, options);
    return { diagnostics, ok: true, parsed, typed: checked.program, graph, optimized, typescript };
  } catch (e) {
    // A compiler bug must not look like the user's mistake, nor crash the caller.
    const text = e instanceof Error ? `${e.message}${e.stack ? "\n" + e.stack.split("\n").slice(1, 4).join("\n") : ""}` : String(e);
    return { diagnostics: [diag("E9999", { text }, { start: 0, end: 0 })], ok: false };
  }
}

export const isInternalError = (r: CompileResult) => r.diagnostics.some((d) => d.code === "E9999");
