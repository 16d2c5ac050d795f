// `flowc fmt` (compiler/src/format): formatting every fixture, example, conformance and peer
// program is idempotent (formatting the result changes nothing) and keeps the program: the same
// syntax tree and the same checked program, spans aside, and the same comments in the same order.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { format } from "../compiler/src/format/format";
import { parse } from "../compiler/src/syntax/parse";
import { check } from "../compiler/src/check/check";
import { ensureCli, flowc, ROOT } from "./helpers";

const SHARED = join(ROOT, "..", "shared");

function programs(): { name: string; source: string }[] {
  const out: { name: string; source: string }[] = [];
  const add = (name: string, file: string) => existsSync(file) && out.push({ name, source: readFileSync(file, "utf8") });
  for (const d of readdirSync(join(ROOT, "test/fixtures"))) add(`fixture ${d}`, join(ROOT, "test/fixtures", d, "input.flow"));
  for (const d of readdirSync(join(ROOT, "examples"), { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of readdirSync(join(ROOT, "examples", d.name))) if (f.endsWith(".flow")) add(`example ${d.name}/${f}`, join(ROOT, "examples", d.name, f));
  }
  for (const suite of ["conformance", "peer-ksql"]) {
    const dir = join(SHARED, suite);
    if (!existsSync(dir)) continue;
    for (const d of readdirSync(dir)) add(`${suite} ${d}`, join(dir, d, "program.flow"));
  }
  return out;
}

/** JSON of a tree without spans (Maps as entries, so a typed program compares too). */
const withoutSpans = (v: unknown): string =>
  JSON.stringify(v, (k, x) => (k === "span" || k === "opSpan" ? undefined : x instanceof Map ? [...x.entries()] : x instanceof Set ? [...x] : x));

const PROGRAMS = programs();

describe("flowc fmt", () => {
  it("finds the programs", () => {
    expect(PROGRAMS.length).toBeGreaterThan(200);
  });

  let formatted = 0;
  for (const p of PROGRAMS) {
    const parsed = parse(p.source);
    // A fixture of a syntax error is left alone by the formatter (it reports the error).
    if (parsed.diagnostics.some((d) => d.severity === "error")) {
      it(`${p.name}: a program with syntax errors is not formatted`, () => {
        expect(format(p.source).ok).toBe(false);
      });
      continue;
    }
    formatted++;
    it(`${p.name}: idempotent, same program`, () => {
      const once = format(p.source);
      expect(once.ok).toBe(true);
      if (!once.ok) return;
      const twice = format(once.text);
      expect(twice.ok && twice.text).toBe(once.text);
      const again = parse(once.text);
      expect(again.diagnostics).toEqual([]);
      const { comments: c1, ...tree1 } = parsed.program;
      const { comments: c2, ...tree2 } = again.program;
      expect(withoutSpans(tree2)).toBe(withoutSpans(tree1));
      expect(c2.map((c) => c.text.trimEnd())).toEqual(c1.map((c) => c.text.trimEnd()));
      const checked1 = check(parsed.program, { poisoned: parsed.poisoned });
      const checked2 = check(again.program, { poisoned: again.poisoned });
      expect(withoutSpans(checked2.program)).toBe(withoutSpans(checked1.program));
      expect(checked2.diagnostics.map((d) => d.code)).toEqual(checked1.diagnostics.map((d) => d.code));
    });
  }
  it("formats most of them", () => expect(formatted).toBeGreaterThan(150));

  it("the canonical layout: one stage per line, aligned bars, spacing, trailing commas, comments kept", () => {
    const src = `// header
type  R={a:int,b:string?}
source rs:R=file("r.jsonl")  event time  t // the time
emit final per=rs|where a>1 and(b??"x")!="y" or (a<0)|group by b|agg n=count(),s=sum(a), long_name_number_one = sum(a * 2), long_name_number_two = max(a * 3)
`;
    const r = format(src);
    expect(r.ok && r.text).toBe(`// header
type R = { a: int, b: string? }
source rs: R = file("r.jsonl") event time t // the time
emit final per = rs
  | where a > 1 and b ?? "x" != "y" or a < 0
  | group by b
  | agg
      n = count(),
      s = sum(a),
      long_name_number_one = sum(a * 2),
      long_name_number_two = max(a * 3),
`);
  });

  it("keeps the parentheses an expression needs and no others", () => {
    const r = format(`source n: int = range(0, 3)\nemit n | select a = (it + 1) * 2, b = it + (1 * 2), c = -(it - 1), d = not (it > 1 or it < 0), e = (if it > 1 then 1 else 2) + 1, f = ((it))\n`);
    expect(r.ok && r.text).toBe(`source n: int = range(0, 3)
emit n
  | select
      a = (it + 1) * 2,
      b = it + 1 * 2,
      c = -(it - 1),
      d = not (it > 1 or it < 0),
      e = (if it > 1 then 1 else 2) + 1,
      f = it,
`);
  });
});

describe("flowc fmt (the command)", () => {
  beforeAll(() => ensureCli());
  const dir = mkdtempSync(join(tmpdir(), "flowc-fmt-"));

  it("--check exits 1 on an unformatted file and names it, 0 once formatted", async () => {
    const f = join(dir, "a.flow");
    writeFileSync(f, "source n: int = range(0, 3)\nemit n|where it>1 // big\n");
    let r = await flowc(["fmt", "--check", f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(`${f}\n`);
    expect(readFileSync(f, "utf8")).toBe("source n: int = range(0, 3)\nemit n|where it>1 // big\n");
    r = await flowc(["fmt", f]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(f, "utf8")).toBe("source n: int = range(0, 3)\nemit n\n  | where it > 1 // big\n");
    r = await flowc(["fmt", "--check", f]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
  });

  it("a file with a syntax error is reported and left alone (exit 1)", async () => {
    const f = join(dir, "bad.flow");
    writeFileSync(f, "emit n | wher x\n");
    const r = await flowc(["fmt", f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E0003]");
    expect(readFileSync(f, "utf8")).toBe("emit n | wher x\n");
  });
});
