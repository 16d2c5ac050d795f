// Renders diagnostics rustc/Gleam style, and as JSON for editors and the playground.
import type { Diagnostic } from "./catalogue";

export interface LineCol {
  line: number; // 1-based
  column: number; // 1-based, in UTF-16 units
}

/** Maps offsets to line/column; built once per source. */
export class LineIndex {
  private readonly starts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.starts.push(i + 1);
  }
  at(offset: number): LineCol {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: o - this.starts[lo]! + 1 };
  }
  lineText(line: number): string {
    const s = this.starts[line - 1] ?? this.text.length;
    const e = this.starts[line] ?? this.text.length + 1;
    return this.text.slice(s, e - 1).replace(/\r$/, "");
  }
  get lineCount() {
    return this.starts.length;
  }
}

export interface RenderOptions {
  color?: boolean;
}

const paint = (on: boolean, code: string, s: string) => (on ? `\x1b[${code}m${s}\x1b[0m` : s);

/** One diagnostic as text: header, location, the source line, a caret underline, notes, help. */
export function renderDiagnostic(d: Diagnostic, file: string, source: string, opts: RenderOptions = {}, index = new LineIndex(source)): string {
  const color = opts.color ?? false;
  const sevColor = d.severity === "error" ? "1;31" : "1;33";
  const start = index.at(d.span.start);
  const end = index.at(Math.max(d.span.start, d.span.end));
  const width = String(end.line).length;
  const pad = " ".repeat(width + 1);
  const bar = paint(color, "1;34", "|");
  const out: string[] = [];
  out.push(`${paint(color, sevColor, `${d.severity}[${d.code}]`)}${paint(color, "1", `: ${d.message}`)}`);
  out.push(`${" ".repeat(width + 1)}${paint(color, "1;34", "-->")} ${file}:${start.line}:${start.column}`);
  const raw = index.lineText(start.line);
  // Very long lines (minified input) are cut around the caret so the output stays readable.
  let text = raw, shift = 0;
  if (raw.length > 200) {
    shift = Math.max(0, start.column - 80);
    text = (shift > 0 ? "…" : "") + raw.slice(shift, shift + 160) + (raw.length > shift + 160 ? "…" : "");
    shift -= shift > 0 ? 1 : 0;
  }
  text = text.replace(/\t/g, " ").replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, "?");
  out.push(`${pad} ${bar}`);
  out.push(`${paint(color, "1;34", String(start.line).padStart(width + 1))} ${bar} ${text}`);
  const caretStart = start.column - 1 - shift;
  const caretLen = end.line === start.line ? Math.max(1, end.column - start.column) : Math.max(1, raw.length - start.column + 1);
  const carets = paint(color, sevColor, "^".repeat(Math.min(caretLen, Math.max(1, text.length - caretStart + 1))));
  out.push(`${pad} ${bar} ${" ".repeat(Math.max(0, caretStart))}${carets}${d.label ? " " + paint(color, sevColor, d.label) : ""}`);
  for (const n of d.notes) {
    if (n.span) {
      const at = index.at(n.span.start);
      out.push(`${pad} ${paint(color, "1;34", "=")} note: ${n.message} (${file}:${at.line}:${at.column})`);
    } else out.push(`${pad} ${paint(color, "1;34", "=")} note: ${n.message}`);
  }
  if (d.hint) out.push(`${pad} ${paint(color, "1;34", "=")} help: ${d.hint}`);
  return out.join("\n");
}

export function renderDiagnostics(ds: readonly Diagnostic[], file: string, source: string, opts: RenderOptions = {}): string {
  const index = new LineIndex(source);
  return ds.map((d) => renderDiagnostic(d, file, source, opts, index)).join("\n\n");
}

export interface JsonDiagnostic {
  code: string;
  severity: string;
  message: string;
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  label?: string;
  notes: string[];
  hints: string[];
}

export function diagnosticsToJson(ds: readonly Diagnostic[], file: string, source: string): JsonDiagnostic[] {
  const index = new LineIndex(source);
  return ds.map((d) => {
    const s = index.at(d.span.start), e = index.at(d.span.end);
    const hints = [d.label, d.hint].filter((x): x is string => !!x);
    return {
      code: d.code, severity: d.severity, message: d.message, file,
      line: s.line, column: s.column, endLine: e.line, endColumn: e.column,
      ...(d.label ? { label: d.label } : {}),
      notes: d.notes.map((n) => n.message), hints,
    };
  });
}
