// What the Results pane derives from a run, DOM-free (unit-tested on Node): which rows of a long
// output are on screen (the table draws only those), the input problems of a run (bad input
// records with their file and line, records dropped by a run-time error) and the diagnostics the
// sample-input editor underlines for them.
import type { CompileOutput } from "./compiler";

/** Rows a table draws past the visible ones, above and below, so a scroll step shows no gap. */
export const OVERSCAN_ROWS = 8;

/**
 * The rows `[start, end)` of a `total`-row table of `rowHeight`-pixel rows that a viewport
 * `viewportHeight` high, scrolled to `scrollTop`, shows (plus the overscan). However long the
 * output, at most viewportHeight / rowHeight + 2 × overscan rows are drawn.
 */
export function visibleRange(scrollTop: number, viewportHeight: number, rowHeight: number, total: number, overscan = OVERSCAN_ROWS): { start: number; end: number } {
  const h = Math.max(1, rowHeight);
  const first = Math.floor(Math.max(0, scrollTop) / h);
  const count = Math.ceil(Math.max(0, viewportHeight) / h) + 1;
  const start = Math.max(0, Math.min(total, first - overscan));
  const end = Math.max(start, Math.min(total, first + count + overscan));
  return { start, end };
}

/**
 * One record a run could not use. `bad-input`: it did not match the source's type (it has the
 * line of its file). `runtime`: it was read but a built-in failed on it (division by zero, a bad
 * regex…): the input is fine, the program's expression is not — a different thing to fix.
 */
export interface RunProblem {
  kind: "bad-input" | "runtime";
  source: string;
  /** The file label the CLI prints: the path as written in the program, or `<stdin>`. */
  file: string;
  /** 1-based line in that file (bad input only). */
  line?: number;
  message: string;
}

/** Where the worker's run writes its dead letters (an in-memory file, never shown as such). */
export const DEAD_LETTER_PATH = "<dead-letter>";

/**
 * The problems in the runtime's dead-letter text: one JSON line per record,
 * `{source, file, line, error, raw}`, `line` null for a run-time failure. At most `max` kept.
 */
export function parseDeadLetters(text: string | undefined, max = 200): RunProblem[] {
  const out: RunProblem[] = [];
  if (!text) return out;
  for (const line of text.split("\n")) {
    if (out.length >= max) break;
    if (!line.trim()) continue;
    try {
      const d = JSON.parse(line) as { source?: unknown; file?: unknown; line?: unknown; error?: unknown };
      const message = String(d.error ?? "");
      const base = { source: String(d.source ?? ""), file: String(d.file ?? ""), message };
      if (typeof d.line === "number" && d.line > 0) out.push({ kind: "bad-input", ...base, line: d.line });
      else out.push({ kind: "runtime", ...base });
    } catch {
      // a line cut short: skip it
    }
  }
  return out;
}

/** A lint diagnostic for the sample-input editor (CodeMirror's Diagnostic shape). */
export interface InputDiagnostic {
  from: number;
  to: number;
  severity: "error" | "warning";
  message: string;
}

/**
 * The bad-input problems of file `path` as diagnostics over `text` (the file's text when it
 * ran): each underlines its whole line. Lines past the end of the text are skipped.
 */
export function inputDiagnostics(problems: readonly RunProblem[], path: string, text: string): InputDiagnostic[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  const out: InputDiagnostic[] = [];
  for (const p of problems) {
    if (p.kind !== "bad-input" || p.file !== path || p.line === undefined || p.line > starts.length) continue;
    const from = starts[p.line - 1]!;
    let to = p.line < starts.length ? starts[p.line]! - 1 : text.length;
    if (to > from && text[to - 1] === "\r") to--;
    out.push({ from, to: Math.max(from, to), severity: "error", message: `bad input record (line ${p.line}): ${p.message}` });
  }
  return out;
}

/**
 * A program with nothing to run: empty, only comments or type declarations — no output. The page
 * shows a calm empty state for it instead of running it (the driver and the graph drawing expect
 * at least one source and one node).
 */
export function nothingToRun(c: CompileOutput | undefined): boolean {
  if (!c?.result.ok) return false;
  const typed = c.result.typed;
  return !typed || typed.outputs.length === 0 || (c.result.optimized?.nodes.size ?? 0) === 0;
}
