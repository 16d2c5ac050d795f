// The page's compiler session: incremental reparse → check → lower → optimize → print JS, and
// everything the panes derive from a compile (editor diagnostics, the data tabs a program needs,
// the windowed operators the timeline draws). DOM-free: unit tests run it on Node.
import { compile, type CompileResult } from "../../compiler/src/pipeline";
import { IncrementalParser } from "../../compiler/src/syntax/parse";
import { LineIndex, renderDiagnostics } from "../../compiler/src/diagnostics/render";
import type { Diagnostic } from "../../compiler/src/diagnostics/catalogue";
import type { TConnector, TFormat, TypedProgram } from "../../compiler/src/check/typed";
import type { Graph } from "../../compiler/src/ir/graph";
import { nodeLabel } from "../../compiler/src/ir/print";
import type { OpInfo, WindowInfo } from "./trace";

export const PROGRAM_FILE = "program.flow";

/** A diagnostic as the editor shows it (CodeMirror's lint Diagnostic shape). */
export interface EditorDiagnostic {
  from: number;
  to: number;
  severity: "error" | "warning";
  /** `error[E0201]: unknown field …` plus label, notes and help, one per line. */
  message: string;
  code: string;
}

/** One input a program reads: a data tab (file / stdin) or a generator. */
export interface InputInfo {
  /** The source or table name. */
  name: string;
  kind: "file" | "stdin" | "generator";
  /** Files: the path as written; stdin: "<stdin>"; generators: the connector call. */
  path: string;
  format: "jsonl" | "csv" | "lines";
  table: boolean;
  /** For generators: what they produce, e.g. `nexmark("bid", events: 2000)`. */
  describe: string;
  /** The declared type, for the tab's hint. */
  type: string;
  eventTime?: { field: string; delayMs: number };
}

export interface CompileOutput {
  result: CompileResult;
  source: string;
  diagnostics: EditorDiagnostic[];
  /** The CLI's rendering of the diagnostics (same text as `flowc check`). */
  diagnosticsText: string;
  inputs: InputInfo[];
  ops: OpInfo[];
  /** Milliseconds the compile took. */
  ms: number;
}

export function diagnosticMessage(d: Diagnostic): string {
  const lines = [`${d.severity}[${d.code}]: ${d.message}`];
  if (d.label) lines.push(d.label);
  for (const n of d.notes) lines.push(`note: ${n.message}`);
  if (d.hint) lines.push(`help: ${d.hint}`);
  return lines.join("\n");
}

export function toEditorDiagnostics(ds: readonly Diagnostic[], docLength: number): EditorDiagnostic[] {
  return ds.map((d) => {
    const from = Math.max(0, Math.min(d.span.start, docLength));
    const to = Math.max(from, Math.min(d.span.end, docLength));
    return { from, to, severity: d.severity, message: diagnosticMessage(d), code: d.code };
  });
}

const durationText = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);

function connectorText(c: TConnector): string {
  switch (c.kind) {
    case "file":
      return `file(${JSON.stringify(c.path)})`;
    case "stdin":
      return "stdin()";
    case "range":
      return `range(${c.from}, ${c.to})`;
    case "nexmark":
      return `nexmark(${JSON.stringify(c.eventKind)}, events: ${c.events}, rate: ${c.rate}, seed: ${c.seed})`;
    case "stdout":
      return "stdout()";
    default:
      // The network connectors (§11) do not run in the page: shown by name.
      return `${c.kind}(…)`;
  }
}

function typeText(t: { kind: string; name?: string }): string {
  return t.name ?? t.kind;
}

/** The inputs of a typed program, sources first, in declaration order. */
export function inputsOf(typed: TypedProgram | undefined): InputInfo[] {
  if (!typed) return [];
  const out: InputInfo[] = [];
  const add = (name: string, c: TConnector, table: boolean, type: { kind: string; name?: string }, eventTime?: { field: string; delayMs: number }) => {
    const base = { name, table, type: typeText(type), describe: connectorText(c), ...(eventTime ? { eventTime } : {}) };
    // Changes (§13) are JSON lines: the playground shows and edits them as such.
    const lineFormat = (f: TFormat): "jsonl" | "csv" | "lines" => (f === "changelog" || f === "debezium" ? "jsonl" : f);
    if (c.kind === "file") out.push({ ...base, kind: "file", path: c.path, format: lineFormat(c.format) });
    else if (c.kind === "stdin") out.push({ ...base, kind: "stdin", path: "<stdin>", format: lineFormat(c.format) });
    else if (c.kind === "range" || c.kind === "nexmark") out.push({ ...base, kind: "generator", path: `<${name}>`, format: "jsonl" });
  };
  for (const s of typed.sources) add(s.name, s.connector, false, s.type, s.eventTime && { field: s.eventTime.field ?? "(computed)", delayMs: s.eventTime.delayMs });
  for (const t of typed.tables) add(t.name, t.connector, true, t.type);
  return out;
}

/**
 * The operators of the optimized graph the timeline draws a lane for: windowed ones (their
 * windows as bars; a window join's kind when it is not inner) and interval joins (their two
 * inputs, with the pairs they matched).
 */
export function windowedOps(g: Graph | undefined, source: string): OpInfo[] {
  if (!g) return [];
  const lines = new LineIndex(source);
  const out: OpInfo[] = [];
  for (const n of [...g.nodes.values()].sort((a, b) => a.id - b.id)) {
    if (n.kind === "join" && n.mode.kind === "interval") {
      const span = n.spans[0];
      out.push({ id: n.id, kind: "join", interval: { lower: n.mode.lower, upper: n.mode.upper }, ...(n.joinKind !== "inner" ? { joinKind: n.joinKind } : {}), label: nodeLabel(n, g), line: span ? lines.at(span.start).line : 0, keys: [] });
      continue;
    }
    const w = n.kind === "agg" || n.kind === "top" || n.kind === "distinct" ? n.window : n.kind === "join" && n.mode.kind === "window" ? n.mode.window : undefined;
    if (!w || (n.kind !== "agg" && n.kind !== "top" && n.kind !== "distinct" && n.kind !== "join")) continue;
    const span = n.spans[0];
    out.push({
      id: n.id,
      kind: n.kind,
      window: { kind: w.kind, size: w.size, slide: w.slide, carried: w.carried },
      label: nodeLabel(n, g),
      line: span ? lines.at(span.start).line : 0,
      keys: n.kind === "join" ? [] : n.keys.map((k) => k.name),
      ...(n.kind === "join" && n.joinKind !== "inner" ? { joinKind: n.joinKind } : {}),
    });
  }
  return out;
}

export function windowText(w: WindowInfo): string {
  return w.kind === "hop" ? `hop(${durationText(w.size)}, ${durationText(w.slide)})` : `${w.kind}(${durationText(w.size)})`;
}

export interface CompilerOptions {
  /** Absolute URL of the runtime bundle the generated code imports. */
  runtimeUrl: string;
}

/** A compile session for one editor: keeps the incremental parser between keystrokes. */
export class PlaygroundCompiler {
  private parser = new IncrementalParser();
  constructor(private readonly opts: CompilerOptions) {}

  compile(source: string): CompileOutput {
    const t0 = now();
    let parsed;
    try {
      parsed = this.parser.update(source);
    } catch {
      // The incremental matcher should never fail, but a fresh parse must not be lost if it does.
      this.parser = new IncrementalParser();
      parsed = undefined;
    }
    const url = this.opts.runtimeUrl;
    const result = compile(source, { file: PROGRAM_FILE, javascript: true, instrument: true, runtime: url, ops: url, stdlib: url, ...(parsed ? { parsed } : {}) });
    const diagnostics = toEditorDiagnostics(result.diagnostics, source.length);
    return {
      result,
      source,
      diagnostics,
      diagnosticsText: renderDiagnostics(result.diagnostics, PROGRAM_FILE, source),
      inputs: inputsOf(result.typed),
      ops: result.ok ? windowedOps(result.optimized, source) : [],
      ms: now() - t0,
    };
  }
}

const now = () => (typeof performance !== "undefined" ? performance.now() : Date.now());
