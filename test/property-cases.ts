// The property test of property.test.ts (and, with more runs, property.stress.test.ts): mutate
// valid programs and check that the compiler never throws, never reports an internal error
// (E9999), never takes long, and that every diagnostic points inside the file and renders.
// fast-check prints the seed and the shrunk input on failure.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compile } from "../compiler/src/pipeline";
import { diagnosticsToJson, renderDiagnostics } from "../compiler/src/diagnostics/render";
import { conformanceCases, fixtureCases } from "./helpers";

const seeds: string[] = [
  ...fixtureCases().filter((c) => c.kind !== "error").map((c) => c.source),
  ...conformanceCases().map((c) => c.source),
];

const KEYWORDS = [
  "type", "source", "table", "let", "emit", "final", "fn", "import", "from", "event", "time", "watermark", "key",
  "where", "select", "extend", "map", "unnest", "window", "group", "by", "agg", "top", "distinct", "join", "lookup",
  "as", "on", "within", "with", "ties", "asc", "desc", "union", "and", "or", "not", "in", "if", "then", "else",
  "true", "false", "null", "it", "tumbling", "hop", "session", "count", "sum", "max", "min", "collect", "percentile", "over", "rows", "lag",
];
const PUNCT = ["|", "(", ")", "[", "]", "{", "}", ",", ":", "=", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "??", "->", "..", ".", "@", '"', "`", "\\", "/*", "*/", "//", "?", "\n", " ", "\t", "\r\n"];
const LITERALS = ["0", "1_000", "3.5", "1e6", "9007199254740993", "10s", "1h30m", "250ms", "@2026-01-01T00:00:00Z", "@2026-02-30T00:00:00Z", "@nope", '"x"', '"\\q"', '"\\u{1F600}"', '"unterminated', "`quoted name`", "``", "-0"];
const TOKEN = /[A-Za-z_][A-Za-z0-9_]*|[0-9][A-Za-z0-9_.]*|"(?:[^"\\\n]|\\.)*"?|`[^`\n]*`?|==|!=|<=|>=|\?\?|->|\.\.|\/\/[^\n]*|\/\*[\s\S]*?\*\/|\s+|[\s\S]/g;


const tokenize = (s: string): string[] => s.match(TOKEN) ?? [];

type Mutation =
  | { kind: "delete"; at: number }
  | { kind: "duplicate"; at: number }
  | { kind: "swap"; a: number; b: number }
  | { kind: "insertText"; at: number; text: string }
  | { kind: "truncate"; at: number }
  | { kind: "renameIdent"; at: number; name: string }
  | { kind: "nest"; at: number; depth: number; open: string; close: string }
  | { kind: "bytes"; at: number; bytes: Uint8Array; whole: boolean };

const fragment = fc.oneof(
  fc.constantFrom(...KEYWORDS).map((k) => ` ${k} `),
  fc.constantFrom(...PUNCT),
  fc.constantFrom(...LITERALS),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 6 }),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("swap" as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant("insertText" as const), at: fc.nat(), text: fragment }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("renameIdent" as const), at: fc.nat(), name: fc.oneof(fc.constantFrom(...KEYWORDS), fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/)) }),
  fc.record({ kind: fc.constant("nest" as const), at: fc.nat(), depth: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 140, max: 400 })), open: fc.constantFrom("(", "[", "{"), close: fc.constantFrom(")", "]", "}", "") }),
  fc.record({ kind: fc.constant("bytes" as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 64 }), whole: fc.boolean() }),
);

function apply(src: string, m: Mutation): string {
  const toks = tokenize(src);
  const n = toks.length;
  const idx = (i: number) => (n === 0 ? 0 : i % n);
  switch (m.kind) {
    case "delete":
      if (n) toks.splice(idx(m.at), 1);
      return toks.join("");
    case "duplicate":
      if (n) toks.splice(idx(m.at), 0, toks[idx(m.at)]!);
      return toks.join("");
    case "swap": {
      if (!n) return src;
      const a = idx(m.a), b = idx(m.b);
      [toks[a], toks[b]] = [toks[b]!, toks[a]!];
      return toks.join("");
    }
    case "insertText":
      toks.splice(n ? m.at % (n + 1) : 0, 0, m.text);
      return toks.join("");
    case "truncate":
      return src.slice(0, src.length ? m.at % (src.length + 1) : 0);
    case "renameIdent": {
      const ids = toks.map((t, i) => (/^[A-Za-z_]/.test(t) ? i : -1)).filter((i) => i >= 0);
      if (!ids.length) return src;
      toks[ids[m.at % ids.length]!] = m.name;
      return toks.join("");
    }
    case "nest": {
      // Wrap the expression-ish token at `at` in `depth` brackets (maybe unbalanced).
      if (!n) return m.open.repeat(m.depth);
      const i = idx(m.at);
      toks[i] = m.open.repeat(m.depth) + toks[i] + m.close.repeat(m.depth);
      return toks.join("");
    }
    case "bytes": {
      const text = new TextDecoder("utf-8", { fatal: false }).decode(m.bytes);
      if (m.whole) return text;
      const at = src.length ? m.at % (src.length + 1) : 0;
      return src.slice(0, at) + text + src.slice(at);
    }
  }
}

/** The invariants every compile must keep, whatever the input. */
function checkInvariants(src: string): void {
  const started = performance.now();
  let r: ReturnType<typeof compile>;
  try {
    r = compile(src, { file: "mutant.flow" });
  } catch (e) {
    throw new Error(`compile() threw: ${e instanceof Error ? e.stack : String(e)}\n--- program ---\n${src}`);
  }
  const ms = performance.now() - started;
  if (ms > 2000) throw new Error(`compile() took ${ms.toFixed(0)} ms\n--- program ---\n${src}`);
  const internal = r.diagnostics.filter((d) => d.code === "E9999");
  if (internal.length) throw new Error(`internal error: ${internal[0]!.message}\n--- program ---\n${src}`);
  for (const d of r.diagnostics) {
    if (!(d.span.start >= 0 && d.span.start <= d.span.end && d.span.end <= src.length)) {
      throw new Error(`${d.code} span [${d.span.start}, ${d.span.end}) outside the file (length ${src.length}): ${d.message}\n--- program ---\n${src}`);
    }
  }
  if (r.ok !== !r.diagnostics.some((d) => d.severity === "error")) throw new Error(`ok=${r.ok} disagrees with the diagnostics\n--- program ---\n${src}`);
  if (r.ok && r.typescript === undefined) throw new Error(`ok but no TypeScript\n--- program ---\n${src}`);
  // Rendering must not throw either (it runs on every diagnostic in the CLI and playground).
  renderDiagnostics(r.diagnostics, "mutant.flow", src, { color: true });
  diagnosticsToJson(r.diagnostics, "mutant.flow", src);
}

/**
 * The property tests with RUNS token mutations and RUNS / 3 arbitrary texts. `PROPERTY_RUNS=N`
 * overrides RUNS for a bug hunt: `PROPERTY_RUNS=50000 npx vitest run test/property.test.ts`.
 */
export function propertySuite(title: string, defaultRuns: number): void {
  const RUNS = Number(process.env.PROPERTY_RUNS ?? defaultRuns);
  describe(title, () => {
    const TIMEOUT = Math.max(60_000, RUNS * 15);
    it("has seed programs", () => {
      expect(seeds.length).toBeGreaterThan(30); // 41 valid fixtures, plus ../shared when present
      for (const s of seeds) checkInvariants(s);
    });

    it("keeps its invariants under random token mutations", { timeout: TIMEOUT }, () => {
      fc.assert(
        fc.property(fc.nat(), fc.array(mutation, { minLength: 1, maxLength: 4 }), (pick, ms) => {
          let src = seeds[pick % seeds.length]!;
          for (const m of ms) src = apply(src, m);
          checkInvariants(src);
        }),
        { numRuns: RUNS },
      );
    });

    it("keeps its invariants on arbitrary text", { timeout: TIMEOUT }, () => {
      fc.assert(
        fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), fc.array(fragment, { maxLength: 40 }).map((a) => a.join(""))), (src) => {
          checkInvariants(src);
        }),
        { numRuns: Math.ceil(RUNS / 3) },
      );
    });
  });
}
