// The language service: what an editor asks about a Flow document — diagnostics, the type under
// the cursor, completions, definitions and references, rename, symbols, signature help and
// formatting — computed from the parsed and checked program. It is browser-safe (no Node
// imports): `flowc lsp` (cli/lsp.ts) serves it over the Language Server Protocol, and the
// playground can call it directly. Positions are UTF-16 offsets, like every span.
import type * as A from "../syntax/ast";
import { DeclarationParser, type ParseResult } from "../syntax/parse";
import { check } from "../check/check";
import type { ExternSignature, StreamInfo, TExpr, TPipeline, TStage, TypedProgram } from "../check/typed";
import { typeToString, type Type } from "../check/types";
import type { Diagnostic } from "../diagnostics/catalogue";
import { format } from "../format/format";
import { BUILTIN_FUNCTIONS, AGGREGATE_FUNCTIONS } from "../../../stdlib/src/catalog";
import { STAGES } from "../syntax/stages";
import { completionsAt, pipelinesOf, type CompletionItem } from "./complete";

export type { CompletionItem };

export interface Hover {
  /** Markdown. */
  text: string;
  span: A.Span;
}

export type SymbolKind = "type" | "source" | "table" | "let" | "emit" | "fn" | "import" | "test" | "field";

export interface DocSymbol {
  name: string;
  kind: SymbolKind;
  detail?: string;
  span: A.Span;
  selection: A.Span;
  children: DocSymbol[];
}

export interface SignatureHelp {
  label: string;
  doc?: string;
  params: string[];
  active: number;
}

/** What a name in the program refers to: a declaration (by kind and name) or a field. */
type Target = { kind: "decl"; space: "type" | "stream" | "fn"; name: string } | { kind: "field"; key: string };

interface Occurrence {
  span: A.Span;
  target: Target;
  /** This occurrence declares its target. */
  decl: boolean;
}

const targetKey = (t: Target) => (t.kind === "decl" ? `${t.space}:${t.name}` : `field:${t.key}`);

/** One open document: reparsed incrementally and re-checked on every change. */
export class FlowDocument {
  private readonly parser = new DeclarationParser();
  private text = "";
  private parsed: ParseResult | undefined;
  private typed: TypedProgram | undefined;
  private checkDiagnostics: Diagnostic[] = [];
  private occurrences: Occurrence[] | undefined;

  /** Diagnostics of reading the imported TypeScript (the host resolves imports: setExterns). */
  private externDiagnostics: Diagnostic[] = [];

  constructor(
    text = "",
    private externs?: Map<string, ExternSignature>,
  ) {
    this.update(text);
  }

  /** The signatures of the functions the program imports, as the host read them; re-checks. */
  setExterns(externs: Map<string, ExternSignature> | undefined, diagnostics: Diagnostic[] = []): void {
    this.externs = externs;
    this.externDiagnostics = diagnostics;
    this.update(this.text);
  }

  get source(): string {
    return this.text;
  }

  /** Replaces the text: reparses (incrementally) and re-checks. */
  update(text: string): void {
    this.text = text;
    this.parsed = this.parser.update(text);
    const checked = check(this.parsed.program, { poisoned: this.parsed.poisoned, ...(this.externs && { externs: this.externs }) });
    this.typed = checked.program;
    this.checkDiagnostics = checked.diagnostics;
    this.occurrences = undefined;
  }

  /** The diagnostics `flowc check` gives (imports as resolved by the host's `setExterns`). */
  diagnostics(): Diagnostic[] {
    return [...this.externDiagnostics, ...this.parsed!.diagnostics, ...this.checkDiagnostics].sort((a, b) => a.span.start - b.span.start);
  }

  get program(): A.Program {
    return this.parsed!.program;
  }

  get typedProgram(): TypedProgram | undefined {
    return this.typed;
  }

  // ---- hover -----------------------------------------------------------------------------------

  hover(offset: number): Hover | undefined {
    const occ = this.occurrenceAt(offset);
    if (occ && occ.target.kind === "decl") {
      const text = this.describeDecl(occ.target.space, occ.target.name);
      if (text) return { text, span: occ.span };
    }
    // A built-in or aggregate call: its signature and doc.
    const call = this.innermost(offset, (e) => e.kind === "Call" && within(offset, e.callee.span)) as Extract<A.Expr, { kind: "Call" }> | undefined;
    if (call) {
      const sig = builtinSignature(call.callee.name, /\|\s*agg\b[^|]*$/.test(this.text.slice(0, call.span.start)));
      if (sig) return { text: code(sig.label) + (sig.doc ? `\n\n${sig.doc}` : ""), span: call.callee.span };
    }
    // A field or any expression: its type, from the typed program.
    const t = this.typedExprAt(offset);
    if (t) {
      const name = this.identAt(offset);
      return { text: code(`${name ? name.name + ": " : ""}${typeToString(t.type)}`), span: name?.span ?? t.span };
    }
    // A stage keyword: the record the stage outputs.
    const stage = this.stageAt(offset);
    if (stage) return { text: `${code(stageWord(stage))} outputs ${code(streamText(stage.output))}`, span: { start: stage.span.start, end: stage.span.start + stageWord(stage).length } };
    return undefined;
  }

  private describeDecl(space: "type" | "stream" | "fn", name: string): string | undefined {
    const typed = this.typed;
    if (!typed) return undefined;
    if (space === "stream") {
      const s = typed.sources.find((x) => x.name === name);
      if (s) return code(`source ${name}: ${typeToString(s.type)}`) + `\n\n${code(expand(s.type))}` + (s.key ? `\n\nchanges keyed by ${s.key.join(", ")}` : "") + (s.eventTime ? "" : "\n\nno event time: arrival time");
      const t = typed.tables.find((x) => x.name === name);
      if (t) return code(`table ${name}: ${typeToString(t.type)} key ${t.key}`) + `\n\n${code(expand(t.type))}`;
      const l = typed.lets.get(name);
      if (l) return code(`let ${name}`) + `: ${code(streamText(l.out))}`;
      const o = typed.outputs.find((x) => x.name === name);
      if (o) return code(`emit ${o.final ? "final " : ""}${name}`) + `: ${code(streamText(o.pipeline.out))}`;
      return undefined;
    }
    if (space === "type") {
      const d = this.program.decls.find((x): x is A.TypeDecl => x.kind === "TypeDecl" && x.name.name === name);
      return d ? code(`type ${name} = ${this.text.slice(d.type.span.start, d.type.span.end)}`) : code(name);
    }
    const f = typed.fns.get(name);
    if (f) return code(`fn ${name}(${f.params.map((p) => `${p.name}: ${typeToString(p.type)}`).join(", ")}): ${typeToString(f.type)}`);
    const sig = builtinSignature(name);
    return sig ? code(sig.label) + (sig.doc ? `\n\n${sig.doc}` : "") : undefined;
  }

  // ---- completion --------------------------------------------------------------------------------

  completions(offset: number): CompletionItem[] {
    return completionsAt(this.text, offset, this.typed, true)?.items ?? [];
  }

  // ---- definitions, references, rename ---------------------------------------------------------

  definition(offset: number): A.Span | undefined {
    const occ = this.occurrenceAt(offset);
    if (!occ) return undefined;
    const key = targetKey(occ.target);
    return this.index().find((o) => o.decl && targetKey(o.target) === key)?.span;
  }

  references(offset: number, includeDeclaration = true): A.Span[] {
    const occ = this.occurrenceAt(offset);
    if (!occ) return [];
    const key = targetKey(occ.target);
    return this.index()
      .filter((o) => targetKey(o.target) === key && (includeDeclaration || !o.decl))
      .map((o) => o.span);
  }

  /** The spans to replace to rename what is at `offset` (undefined: nothing renamable there). */
  rename(offset: number, newName: string): { spans: A.Span[]; text: string } | undefined {
    const occ = this.occurrenceAt(offset);
    if (!occ) return undefined;
    const plain = /^[A-Za-z_][A-Za-z0-9_]*$/.test(newName) && !RESERVED.has(newName);
    return { spans: this.references(offset, true), text: plain ? newName : `\`${newName.replace(/`/g, "")}\`` };
  }

  /** The name at `offset` that can be renamed, and its span. */
  renameTarget(offset: number): A.Span | undefined {
    return this.occurrenceAt(offset)?.span;
  }

  private occurrenceAt(offset: number): Occurrence | undefined {
    return this.index().find((o) => o.span.start <= offset && offset <= o.span.end);
  }

  /** Every name of the program that refers to a declaration or a field, with what it refers to. */
  private index(): Occurrence[] {
    if (this.occurrences) return this.occurrences;
    const out: Occurrence[] = [];
    const prog = this.program;
    const fns = new Set(prog.decls.flatMap((d) => (d.kind === "FnDecl" ? [d.name.name] : d.kind === "ImportDecl" ? d.names.map((n) => n.name) : [])));
    const typeNames = new Set(prog.decls.flatMap((d) => (d.kind === "TypeDecl" ? [d.name.name] : [])));
    const add = (id: A.Ident, target: Target, decl = false) => out.push({ span: id.span, target, decl });
    const stream = (name: string): Target => ({ kind: "decl", space: "stream", name });
    const typeRefs = (t: A.TypeExpr, owner: string | undefined) => {
      if (t.kind === "NamedType") {
        if (typeNames.has(t.name.name)) add(t.name, { kind: "decl", space: "type", name: t.name.name });
      } else if (t.kind === "OptionalType") typeRefs(t.inner, owner);
      else if (t.kind === "ArrayType") typeRefs(t.element, owner);
      else for (const f of t.fields) {
        if (owner) add(f.name, { kind: "field", key: `${owner}.${f.name.name}` }, true);
        typeRefs(f.type, undefined);
      }
    };
    /** The type declaration (name) a source or table's records have, for its fields' definitions. */
    const recordOwner = (t: A.TypeExpr, fallback: string) => (t.kind === "NamedType" ? `type:${t.name.name}` : `inline:${fallback}`);
    const fieldOwner = new Map<string, string>();
    for (const d of prog.decls) {
      if (d.kind === "SourceDecl" || d.kind === "TableDecl") fieldOwner.set(d.name.name, recordOwner(d.type, d.name.name));
    }
    const exprRefs = (e: A.Expr | undefined, fieldKey?: (name: string) => string | undefined) => {
      if (!e) return;
      walkExpr(e, (x) => {
        if (x.kind === "Call" && fns.has(x.callee.name)) add(x.callee, { kind: "decl", space: "fn", name: x.callee.name });
        if (x.kind === "Name" && fieldKey) {
          const k = fieldKey(x.name.name);
          if (k) add(x.name, { kind: "field", key: k });
        }
      });
    };
    const pipelineRefs = (p: A.Pipeline) => {
      const h = p.head;
      if (h.kind === "NameHead") add(h.name, stream(h.name.name));
      else if (h.kind === "ParenHead") pipelineRefs(h.pipeline);
      else for (const i of h.inputs) pipelineRefs(i);
      // Field names resolve to the head's record type (`base`) and to the fields the stages
      // bind (`local`: select, extend, group by and agg items); a stage that reshapes the
      // records otherwise (map, join, unnest) ends what can be resolved.
      const owner = h.kind === "NameHead" ? fieldOwner.get(h.name.name) : undefined;
      let base: string | undefined = owner;
      let local = new Map<string, string>();
      let keys: { name: string; key?: string }[] = [];
      const fieldKey = (n: string): string | undefined => local.get(n) ?? (base !== undefined ? `${base}.${n}` : undefined);
      const bind = (id: A.Ident): string => {
        const key = `bind:${id.span.start}`;
        add(id, { kind: "field", key }, true);
        return key;
      };
      /** An item's output field: its binding, or the field a bare name passes through. */
      const itemField = (name: A.Ident | undefined, e: A.Expr, into: Map<string, string>) => {
        if (name) into.set(name.name, bind(name));
        else if (e.kind === "Name") {
          const k = fieldKey(e.name.name);
          if (k) into.set(e.name.name, k);
        }
      };
      for (const s of p.stages) {
        switch (s.kind) {
          case "Join":
            if (s.side.kind === "NameSide") add(s.side.name, stream(s.side.name.name));
            else pipelineRefs(s.side.pipeline);
            exprRefs(s.on);
            base = undefined;
            local = new Map();
            break;
          case "Lookup":
            add(s.table, stream(s.table.name));
            exprRefs(s.on, fieldKey);
            break;
          case "Map":
          case "Unnest":
            for (const x of stageExprs(s)) exprRefs(x, fieldKey);
            base = undefined;
            local = new Map();
            break;
          case "Extend": {
            for (const i of s.items) exprRefs(i.expr, fieldKey);
            const next = new Map(local);
            for (const i of s.items) itemField(i.name, i.expr, next);
            local = next;
            break;
          }
          case "GroupBy":
            for (const k of s.keys) exprRefs(k.expr, fieldKey);
            keys = s.keys.map((k) => (k.name ? { name: k.name.name, key: bind(k.name) } : { name: k.expr.kind === "Name" ? k.expr.name.name : "", key: k.expr.kind === "Name" ? fieldKey(k.expr.name.name) : undefined }));
            break;
          case "Agg": {
            for (const i of s.items) exprRefs(i.expr, fieldKey);
            const next = new Map<string, string>();
            for (const k of keys) if (k.key) next.set(k.name, k.key);
            for (const i of s.items) if (i.name) next.set(i.name.name, bind(i.name));
            base = undefined;
            local = next;
            keys = [];
            break;
          }
          case "Select": {
            for (const i of s.items) if (i.kind === "SelectExpr") exprRefs(i.expr, fieldKey);
            const star = s.items.some((i) => i.kind === "SelectStar" && !i.alias);
            const next = star ? new Map(local) : new Map<string, string>();
            for (const i of s.items) if (i.kind === "SelectExpr") itemField(i.name, i.expr, next);
            if (!star) base = undefined;
            local = next;
            break;
          }
          default:
            for (const x of stageExprs(s)) exprRefs(x, fieldKey);
        }
      }
    };
    for (const d of prog.decls) {
      switch (d.kind) {
        case "TypeDecl":
          add(d.name, { kind: "decl", space: "type", name: d.name.name }, true);
          typeRefs(d.type, `type:${d.name.name}`);
          break;
        case "SourceDecl":
        case "TableDecl": {
          add(d.name, stream(d.name.name), true);
          typeRefs(d.type, d.type.kind === "RecordType" ? `inline:${d.name.name}` : undefined);
          const owner = fieldOwner.get(d.name.name)!;
          const keys = d.kind === "SourceDecl" ? (d.key ?? []) : [d.key];
          for (const k of keys) add(k, { kind: "field", key: `${owner}.${k.name}` });
          if (d.kind === "SourceDecl") {
            if (d.eventTime?.kind === "Name") add(d.eventTime.name, { kind: "field", key: `${owner}.${d.eventTime.name.name}` });
            else exprRefs(d.eventTime, (n) => `${owner}.${n}`);
          }
          break;
        }
        case "LetDecl":
          add(d.name, stream(d.name.name), true);
          pipelineRefs(d.pipeline);
          break;
        case "EmitDecl":
          if (d.name) add(d.name, stream(d.name.name), true);
          pipelineRefs(d.pipeline);
          break;
        case "FnDecl":
          add(d.name, { kind: "decl", space: "fn", name: d.name.name }, true);
          for (const p of d.params) typeRefs(p.type, undefined);
          if (d.returnType) typeRefs(d.returnType, undefined);
          exprRefs(d.body);
          break;
        case "ImportDecl":
          for (const n of d.names) add(n, { kind: "decl", space: "fn", name: n.name }, true);
          break;
        case "TestDecl":
          for (const item of d.items) {
            const name = item.target.name;
            if (item.kind === "TestExpect" && (name === "late" || name === "bad") && item.value.kind !== "ArrayLit") continue;
            add(item.target, stream(name));
            // The fields of input records are the source's fields.
            const owner = item.kind === "TestInput" ? fieldOwner.get(name) : undefined;
            if (owner && item.value.kind === "ArrayLit") {
              for (const r of item.value.elements) if (r.kind === "RecordLit") for (const f of r.fields) add(f.name, { kind: "field", key: `${owner}.${f.name.name}` });
            }
          }
          break;
      }
    }
    // Unnamed outputs (`out1`…) have no declaration to point at; a test naming one still refers to it.
    return (this.occurrences = out.sort((a, b) => a.span.start - b.span.start));
  }

  // ---- symbols ------------------------------------------------------------------------------------

  symbols(): DocSymbol[] {
    const out: DocSymbol[] = [];
    let unnamed = 0;
    for (const d of this.program.decls) {
      switch (d.kind) {
        case "TypeDecl":
          out.push({
            name: d.name.name,
            kind: "type",
            span: d.span,
            selection: d.name.span,
            children: d.type.kind === "RecordType" ? d.type.fields.map((f) => ({ name: f.name.name, kind: "field" as const, detail: this.text.slice(f.type.span.start, f.type.span.end), span: { start: f.name.span.start, end: f.type.span.end }, selection: f.name.span, children: [] })) : [],
          });
          break;
        case "SourceDecl":
        case "TableDecl":
        case "LetDecl":
          out.push({ name: d.name.name, kind: d.kind === "SourceDecl" ? "source" : d.kind === "TableDecl" ? "table" : "let", span: d.span, selection: d.name.span, children: [] });
          break;
        case "EmitDecl": {
          const name = d.name?.name ?? `out${++unnamed}`;
          out.push({ name, kind: "emit", span: d.span, selection: d.name?.span ?? { start: d.span.start, end: d.span.start + 4 }, children: [] });
          break;
        }
        case "FnDecl":
          out.push({ name: d.name.name, kind: "fn", span: d.span, selection: d.name.span, children: [] });
          break;
        case "ImportDecl":
          for (const n of d.names) out.push({ name: n.name, kind: "import", span: d.span, selection: n.span, children: [] });
          break;
        case "TestDecl":
          out.push({ name: d.name.value, kind: "test", span: d.span, selection: d.name.span, children: [] });
          break;
      }
    }
    return out;
  }

  // ---- signature help ----------------------------------------------------------------------------

  signatureHelp(offset: number): SignatureHelp | undefined {
    // The innermost call whose parentheses hold the cursor (found in the text: the call may not parse yet).
    let depth = 0;
    for (let i = offset - 1; i >= 0; i--) {
      const c = this.text[i];
      if (c === ")" || c === "]" || c === "}") depth++;
      else if (c === "[" || c === "{") depth = Math.max(0, depth - 1);
      else if (c === "(") {
        if (depth > 0) {
          depth--;
          continue;
        }
        const m = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(this.text.slice(0, i));
        if (!m) return undefined;
        const inAgg = /\|\s*agg\b[^|]*$/.test(this.text.slice(0, i));
        const sig = builtinSignature(m[1]!, inAgg) ?? this.userSignature(m[1]!);
        if (!sig) return undefined;
        let active = 0, d = 0;
        for (let j = i + 1; j < offset; j++) {
          const x = this.text[j];
          if (x === "(" || x === "[" || x === "{") d++;
          else if (x === ")" || x === "]" || x === "}") d--;
          else if (x === "," && d === 0) active++;
        }
        return { ...sig, active: Math.min(active, Math.max(0, sig.params.length - 1)) };
      } else if (c === "\n" && /\n\s*(type|source|table|let|emit|fn|import|test)\b/.test(this.text.slice(i, offset))) return undefined;
    }
    return undefined;
  }

  private userSignature(name: string): Omit<SignatureHelp, "active"> | undefined {
    const f = this.typed?.fns.get(name);
    if (!f) return undefined;
    const params = f.params.map((p) => `${p.name}: ${typeToString(p.type)}`);
    return { label: `${name}(${params.join(", ")}): ${typeToString(f.type)}`, params };
  }

  // ---- formatting ----------------------------------------------------------------------------------

  /** The formatted text, or undefined when the document has syntax errors. */
  formatted(): string | undefined {
    const r = format(this.text);
    return r.ok ? r.text : undefined;
  }

  // ---- lookups -------------------------------------------------------------------------------------

  private identAt(offset: number): A.Ident | undefined {
    const e = this.innermost(offset, (x) => x.kind === "Name" || x.kind === "Field");
    if (!e) return undefined;
    if (e.kind === "Name") return e.name;
    if (e.kind === "Field" && within(offset, e.name.span)) return e.name;
    return undefined;
  }

  /** The innermost expression of the syntax tree containing `offset` that satisfies `pred`. */
  private innermost(offset: number, pred: (e: A.Expr) => boolean): A.Expr | undefined {
    let best: A.Expr | undefined;
    const visit = (e: A.Expr) =>
      walkExpr(e, (x) => {
        if (within(offset, x.span) && pred(x) && (!best || x.span.end - x.span.start <= best.span.end - best.span.start)) best = x;
      });
    for (const e of allExprs(this.program)) if (within(offset, e.span)) visit(e);
    return best;
  }

  /** The innermost typed expression at `offset` (a field read, a call, …). */
  private typedExprAt(offset: number): TExpr | undefined {
    const typed = this.typed;
    if (!typed) return undefined;
    let best: TExpr | undefined;
    const visit = (t: TExpr) => {
      if (!within(offset, t.span)) return;
      if (t.type.kind !== "error" && (!best || t.span.end - t.span.start <= best.span.end - best.span.start)) best = t;
      for (const c of texprChildren(t)) visit(c);
    };
    for (const p of pipelinesOf(typed)) for (const s of p.stages) for (const e of tstageExprs(s)) visit(e);
    for (const f of typed.fns.values()) visit(f.body);
    // Only a name's own span (not a whole `select` item) is worth a type on hover.
    return best && this.identAt(offset) ? best : best && best.kind !== "record" ? best : undefined;
  }

  private stageAt(offset: number): TStage | undefined {
    const typed = this.typed;
    if (!typed) return undefined;
    let best: TStage | undefined;
    for (const p of pipelinesOf(typed)) {
      for (const s of p.stages) {
        const word = stageWord(s);
        if (offset >= s.span.start && offset <= s.span.start + word.length && (!best || s.span.end - s.span.start < best.span.end - best.span.start)) best = s;
      }
    }
    return best;
  }
}

// ---- helpers ------------------------------------------------------------------------------------

const RESERVED = new Set(["and", "or", "not", "if", "then", "else", "in", "true", "false", "null"]);

const within = (offset: number, span: A.Span) => span.start <= offset && offset <= span.end;
const code = (s: string) => "`" + s + "`";

function expand(t: Type): string {
  if (t.kind === "record") return `{ ${t.fields.map((f) => `${f.name}: ${typeToString(f.type)}`).join(", ")} }`;
  return typeToString(t);
}

function streamText(info: StreamInfo): string {
  const el = expand(info.element);
  const parts = [el];
  if (info.upsertKeys) parts.push(`updating, keyed by ${info.upsertKeys.join(", ") || "()"}`);
  if (info.window) parts.push(`window ${info.window.kind}`);
  if (info.keys) parts.push(`grouped by ${info.keys.map((k) => k.name).join(", ")}`);
  return parts.join("` · `");
}

function stageWord(s: TStage): string {
  switch (s.kind) {
    case "groupBy":
      return "group by";
    case "project":
      return s.what;
    case "rolling":
      return "extend";
    default:
      return s.kind;
  }
}

/** The signature and doc of a built-in or an aggregate (stdlib/src/catalog.ts). */
export function builtinSignature(name: string, inAgg = false): { label: string; doc?: string; params: string[] } | undefined {
  const f = BUILTIN_FUNCTIONS.find((x) => x.name === name);
  // `min` and `max` are aggregates in `agg` and two-argument built-ins elsewhere.
  if (f && !(inAgg && AGGREGATE_FUNCTIONS.some((a) => a.name === name))) {
    const o = f.overloads[0]!;
    const params = o.params.map((p, i) => `${String.fromCharCode(97 + i)}: ${p}${o.min !== undefined && i >= o.min ? "?" : ""}`);
    const others = f.overloads.slice(1).map((x) => `${name}(${x.params.join(", ")}): ${x.result}`);
    return { label: `${name}(${params.join(", ")}): ${o.result}`, doc: f.doc + (others.length ? `\n\nalso ${others.join(", ")}` : ""), params };
  }
  const a = AGGREGATE_FUNCTIONS.find((x) => x.name === name);
  if (a) {
    const params = a.inputs.map((p, i) => `${i === 0 ? "e" : "p"}: ${p}${i >= a.minArity ? "?" : ""}`);
    return { label: `${name}(${params.join(", ")}): ${a.result}`, doc: `aggregate: ${a.doc}`, params };
  }
  const st = STAGES.find((s) => s.written === name);
  return st ? { label: name, doc: st.doc, params: [] } : undefined;
}

/** Calls `f` on `e` and every expression inside it. */
function walkExpr(e: A.Expr, f: (e: A.Expr) => void): void {
  f(e);
  switch (e.kind) {
    case "Field":
      walkExpr(e.object, f);
      break;
    case "Index":
      walkExpr(e.object, f);
      walkExpr(e.index, f);
      break;
    case "Call":
      for (const a of e.args) walkExpr(a.value, f);
      if (e.over) walkExpr(e.over.size, f);
      break;
    case "Unary":
      walkExpr(e.operand, f);
      break;
    case "Binary":
      walkExpr(e.left, f);
      walkExpr(e.right, f);
      break;
    case "In":
      walkExpr(e.value, f);
      walkExpr(e.list, f);
      break;
    case "If":
      walkExpr(e.cond, f);
      walkExpr(e.then, f);
      walkExpr(e.else, f);
      break;
    case "ArrayLit":
      for (const x of e.elements) walkExpr(x, f);
      break;
    case "RecordLit":
      for (const x of e.fields) walkExpr(x.value, f);
      break;
    default:
      break;
  }
}

function stageExprs(s: A.Stage): A.Expr[] {
  switch (s.kind) {
    case "Where":
      return [s.cond];
    case "Select":
      return s.items.flatMap((i) => (i.kind === "SelectExpr" ? [i.expr] : []));
    case "Extend":
      return s.items.map((i) => i.expr);
    case "Map":
      return [s.expr];
    case "Unnest":
      return [s.field];
    case "Window":
      return s.args;
    case "GroupBy":
      return s.keys.map((k) => k.expr);
    case "Agg":
      return s.items.map((i) => i.expr);
    case "Top":
      return [s.n, s.by];
    case "Distinct":
      return [...s.values, ...(s.within ? [s.within] : [])];
    case "Join":
      return [s.on, ...(s.within ? [s.within.upper, ...(s.within.lower ? [s.within.lower] : [])] : [])];
    case "Lookup":
      return [s.on];
  }
}

function pipelineExprs(p: A.Pipeline): A.Expr[] {
  const h = p.head;
  const nested = h.kind === "ParenHead" ? pipelineExprs(h.pipeline) : h.kind === "UnionHead" ? h.inputs.flatMap(pipelineExprs) : [];
  return [...nested, ...p.stages.flatMap((s) => [...stageExprs(s), ...(s.kind === "Join" && s.side.kind === "PipelineSide" ? pipelineExprs(s.side.pipeline) : [])])];
}

/** Every top-level expression of the program (walk them for the nested ones). */
function allExprs(p: A.Program): A.Expr[] {
  const out: A.Expr[] = [];
  for (const d of p.decls) {
    switch (d.kind) {
      case "SourceDecl":
        out.push(d.connector, ...(d.eventTime ? [d.eventTime] : []), ...(d.watermark ? [d.watermark] : []));
        break;
      case "TableDecl":
        out.push(d.connector);
        break;
      case "LetDecl":
      case "EmitDecl":
        out.push(...pipelineExprs(d.pipeline), ...(d.kind === "EmitDecl" && d.sink ? [d.sink] : []));
        break;
      case "FnDecl":
        out.push(d.body);
        break;
      case "TestDecl":
        for (const i of d.items) out.push(i.value);
        break;
      default:
        break;
    }
  }
  return out;
}

function texprChildren(t: TExpr): TExpr[] {
  switch (t.kind) {
    case "get":
      return [t.object];
    case "index":
      return [t.object, t.index];
    case "unary":
      return [t.operand];
    case "binary":
    case "coalesce":
      return [t.left, t.right];
    case "in":
      return [t.value, t.list];
    case "if":
      return [t.cond, t.then, t.else];
    case "array":
      return t.elements;
    case "record":
      return t.fields.map((f) => f.value);
    case "call":
    case "callFn":
    case "callExtern":
      return t.args;
    default:
      return [];
  }
}

function tstageExprs(s: TStage): TExpr[] {
  switch (s.kind) {
    case "where":
      return [s.cond];
    case "project":
      return [s.expr];
    case "lookup":
      return [s.key];
    case "agg":
      return [...s.keys.map((k) => k.expr), ...s.aggs.flatMap((a) => a.args), ...s.items.map((i) => i.expr)];
    case "rolling":
      return [...s.keys.map((k) => k.expr), ...s.calls.flatMap((c) => c.args), s.expr];
    case "top":
      return [...s.keys.map((k) => k.expr), s.by];
    case "distinct":
      return [...s.keys.map((k) => k.expr), ...s.values];
    case "join":
      return [s.on];
    case "groupBy":
      return s.keys.map((k) => k.expr);
    default:
      return [];
  }
}

export type { TPipeline };
