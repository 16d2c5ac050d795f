// Completion for the editor: stage keywords after `|`, window functions after `window`, fields
// of the element in scope (from the typed program: the stage around the cursor), `alias.` fields
// after a join or lookup, built-ins, aggregates, connectors and the program's own names.
// DOM-free: CodeMirror's completion source in main.ts wraps `completionsAt`.
import { STAGES as STAGE_LIST_ITEMS } from "../syntax/stages";
import type { StreamInfo, TPipeline, TypedProgram } from "../check/typed";
import { typeToString, type Type } from "../check/types";
import { BUILTIN_SIGNATURES, AGGREGATES } from "../check/builtins";
import { CONNECTORS as CONNECTOR_PARAMS } from "../../../stdlib/src/catalog";

export interface CompletionItem {
  label: string;
  type: "keyword" | "property" | "function" | "variable" | "type" | "constant";
  detail?: string;
  info?: string;
  /** Text to insert when it differs from the label. */
  apply?: string;
  boost?: number;
}

/** The stages (compiler/src/syntax/stages.ts), as completion items. */
export const STAGES: { label: string; info: string; apply?: string }[] = STAGE_LIST_ITEMS.map((s) => ({ label: s.written, info: s.doc, ...(s.written.includes(" ") ? { apply: s.written + " " } : {}) }));

const WINDOWS = [
  { label: "tumbling", info: "tumbling(SIZE): fixed windows aligned to the epoch", apply: "tumbling(" },
  { label: "hop", info: "hop(SIZE, SLIDE): overlapping windows", apply: "hop(" },
  { label: "session", info: "session(GAP): per key, ends after GAP without records", apply: "session(" },
];

const AGG_INFO: Record<string, string> = {
  count: "count() rows, count(e) non-null values",
  sum: "sum of the values",
  avg: "average (float)",
  min: "smallest value",
  max: "largest value",
  first: "first value by arrival",
  last: "last value by arrival",
  count_distinct: "number of distinct values",
  approx_count_distinct: "HyperLogLog estimate of distinct values",
  percentile: "percentile(e, p): nearest rank",
  collect: "array of the values in arrival order",
  max_by: "max_by(e, key): e of the record with the largest key",
  min_by: "min_by(e, key): e of the record with the smallest key",
};

const CONNECTOR_INFO: Record<string, string> = {
  file: 'file("path.jsonl") — JSONL, CSV or lines',
  stdin: "stdin(format?)",
  range: "range(from, to): ints from `from` to `to` − 1",
  nexmark: 'nexmark("bid", events: N): the NEXMark generator',
  stdout: "stdout(format?)",
};

/** Every connector of the one table (stdlib/src/catalog.ts), with its parameters as its info. */
const CONNECTORS = Object.keys(CONNECTOR_PARAMS).map((label) => {
  const e = CONNECTOR_PARAMS[label]!;
  const params = (e.source ?? e.sink ?? []).map((p) => (p.namedOnly ? `${p.name}: …` : p.name)).join(", ");
  return { label, info: CONNECTOR_INFO[label] ?? `${label}(${params})${e.network ? " — network" : ""}` };
});

const KEYWORDS = ["type", "source", "table", "let", "emit", "final", "fn", "import", "event time", "watermark", "key", "by", "as", "on", "within", "asc", "desc", "with ties", "over", "rows", "and", "or", "not", "if", "then", "else", "in", "true", "false", "null", "it"];

/** Every pipeline of the program, nested ones included (join sides, unions, parentheses). */
export function pipelinesOf(typed: TypedProgram): TPipeline[] {
  const out: TPipeline[] = [];
  const visit = (p: TPipeline) => {
    out.push(p);
    if (p.head.kind === "union") p.head.inputs.forEach(visit);
    if (p.head.kind === "pipeline") visit(p.head.pipeline);
    for (const s of p.stages) if (s.kind === "join") visit(s.other);
  };
  for (const o of typed.outputs) visit(o.pipeline);
  for (const p of typed.lets.values()) visit(p);
  return out;
}

/** The stream in scope at `pos`: the input of the stage around it, or the output of the stage before it. */
export function streamAt(typed: TypedProgram | undefined, pos: number): StreamInfo | undefined {
  if (!typed) return undefined;
  let best: { info: StreamInfo; width: number } | undefined;
  for (const p of pipelinesOf(typed)) {
    if (pos < p.span.start || pos > p.span.end + 2) continue;
    let info: StreamInfo = p.start;
    for (const s of p.stages) {
      if (s.span.start > pos) break;
      info = pos <= s.span.end && s.kind !== "window" && s.kind !== "groupBy" ? s.input : s.output;
      if (pos <= s.span.end) break;
    }
    const width = p.span.end - p.span.start;
    if (!best || width < best.width) best = { info, width };
  }
  return best?.info;
}

const recordFields = (t: Type) => (t.kind === "record" ? t.fields : t.kind === "optional" && t.inner.kind === "record" ? t.inner.fields : []);

/** Fields reachable by a bare name in `info`, and the aliases (join sides, lookups) with theirs. */
export function fieldsIn(info: StreamInfo | undefined): { fields: { name: string; type: Type }[]; aliases: Map<string, { name: string; type: Type }[]> } {
  const aliases = new Map<string, { name: string; type: Type }[]>();
  if (!info) return { fields: [], aliases };
  const el = info.element;
  if (info.sides && el.kind === "record") {
    const seen = new Map<string, number>();
    for (const side of el.fields) {
      const fs = recordFields(side.type);
      aliases.set(side.name, fs);
      for (const f of fs) seen.set(f.name, (seen.get(f.name) ?? 0) + 1);
    }
    const fields = [...aliases.values()].flat().filter((f) => seen.get(f.name) === 1);
    return { fields, aliases };
  }
  const fields = recordFields(el).filter((f) => {
    const inner = recordFields(f.type);
    // A lookup adds its table row as an optional record field reached as `alias.field`.
    if (inner.length > 0 && f.type.kind === "optional") {
      aliases.set(f.name, inner);
      return false;
    }
    return true;
  });
  return { fields, aliases };
}

export interface CompletionContext {
  /** Offset where the word being completed starts. */
  from: number;
  items: CompletionItem[];
}

/**
 * Completions at `pos` in `text`. `typed` is the freshest typed program whose spans fit `text`
 * (the caller falls back to an older one when the current text does not parse around `pos`).
 * Returns undefined when nothing should pop up unasked (`explicit` = the user asked: Ctrl-Space).
 */
export function completionsAt(text: string, pos: number, typed: TypedProgram | undefined, explicit = false): CompletionContext | undefined {
  const before = text.slice(0, pos);
  const word = /[A-Za-z_][A-Za-z0-9_]*$/.exec(before);
  const from = word ? pos - word[0].length : pos;
  const lead = before.slice(0, from);
  if (/\/\/[^\n]*$/.test(lead) || /"[^"\n]*$/.test(lead.replace(/"(?:[^"\\\n]|\\.)*"/g, ""))) return undefined;
  if (!word && !explicit && !/\.$/.test(lead)) return undefined;

  // `alias.` → that side's fields.
  const dotted = /([A-Za-z_][A-Za-z0-9_]*)\.$/.exec(lead);
  if (dotted) {
    const { aliases } = fieldsIn(streamAt(typed, pos));
    const fs = aliases.get(dotted[1]!);
    if (!fs) return undefined;
    return { from, items: fs.map((f) => ({ label: f.name, type: "property", detail: typeToString(f.type) })) };
  }
  // Inside a connector's parentheses: its arguments not given yet (named: `events: `).
  const inConnector = /\b([a-z]+)\(([^()\n]*)$/.exec(lead);
  if (inConnector && Object.hasOwn(CONNECTOR_PARAMS, inConnector[1]!) && /^\s*(source|table|emit)\b|->/.test(lead.slice(lead.lastIndexOf("\n") + 1))) {
    // The arguments before the last comma are given: by name, or by position in the list's order.
    const done = inConnector[2]!.split(",").slice(0, -1);
    const given = new Set(done.flatMap((a) => /^\s*([A-Za-z_]+)\s*:/.exec(a)?.[1] ?? []));
    const positional = done.filter((a) => !/^\s*[A-Za-z_]+\s*:/.test(a)).length;
    const entry = CONNECTOR_PARAMS[inConnector[1]!]!;
    // After `->` the sink's parameters, else the source's (a table reads like a source).
    const all = ((/->/.test(lead.slice(lead.lastIndexOf("\n") + 1)) ? entry.sink : entry.source) ?? entry.source ?? entry.sink ?? []);
    const byPosition = new Set(all.filter((p) => !p.namedOnly).slice(0, positional).map((p) => p.name));
    const params = all.filter((p) => !given.has(p.name) && !byPosition.has(p.name));
    return {
      from,
      items: params.map((p) => ({ label: p.name, type: "property" as const, detail: p.kind, info: [p.required ? "required" : "optional", p.oneOf ? `one of ${p.oneOf.map((v) => JSON.stringify(v)).join(", ")}` : ""].filter(Boolean).join("; "), apply: `${p.name}: `, boost: p.required ? 2 : 1 })),
    };
  }
  // After `|`: a stage.
  if (/\|\s*$/.test(lead)) return { from, items: STAGES.map((s) => ({ label: s.label, type: "keyword", info: s.info, ...(s.apply ? { apply: s.apply } : {}) })) };
  if (/\bwindow\s+$/.test(lead)) return { from, items: WINDOWS.map((w) => ({ label: w.label, type: "function", info: w.info, apply: w.apply })) };
  if (/=\s*$/.test(lead) && /^\s*(source|table)\b[^\n]*$/m.test(lead.slice(lead.lastIndexOf("\n") + 1))) {
    return { from, items: CONNECTORS.map((c) => ({ label: c.label, type: "function", info: c.info, apply: c.label + "(" })) };
  }
  if (/:\s*$/.test(lead) && /^\s*(source|table|type|fn)\b/m.test(lead.slice(lead.lastIndexOf("\n") + 1))) {
    return { from, items: ["int", "float", "bool", "string", "time", "duration"].map((t) => ({ label: t, type: "type" })) };
  }

  const items: CompletionItem[] = [];
  const { fields, aliases } = fieldsIn(streamAt(typed, pos));
  for (const f of fields) items.push({ label: f.name, type: "property", detail: typeToString(f.type), boost: 3 });
  for (const a of aliases.keys()) items.push({ label: a, type: "variable", detail: "alias", boost: 2 });
  const inAgg = /\|\s*agg\b[^|]*$/.test(lead);
  for (const name of AGGREGATES) items.push({ label: name, type: "function", detail: "aggregate", info: AGG_INFO[name], apply: name + "(", boost: inAgg ? 2 : -1 });
  for (const name of Object.keys(BUILTIN_SIGNATURES)) if (!AGGREGATES.has(name)) items.push({ label: name, type: "function", detail: "built-in", apply: name + "(" });
  items.push({ label: "lag", type: "function", detail: "rolling", info: "lag(e, n?): e of the key's n-th previous record (in extend)", apply: "lag(" });
  if (typed) {
    for (const s of typed.sources) items.push({ label: s.name, type: "variable", detail: "source" });
    for (const t of typed.tables) items.push({ label: t.name, type: "variable", detail: "table" });
    for (const l of typed.lets.keys()) items.push({ label: l, type: "variable", detail: "let" });
    for (const f of typed.fns.values()) items.push({ label: f.name, type: "function", detail: "fn", apply: f.name + "(" });
  }
  for (const k of KEYWORDS) items.push({ label: k, type: "keyword", boost: -2 });
  // One entry per label: the first (most specific) wins.
  const seen = new Set<string>();
  return { from, items: items.filter((i) => (seen.has(i.label) ? false : (seen.add(i.label), true))) };
}
