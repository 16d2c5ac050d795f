// The built-ins as the compiler sees them, read from the one table (stdlib/src/catalog.ts).
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../pipeline";
import { bundle } from "../cli/bundle";
import { createMemoryEnv, runProgram, type Program } from "../../../runtime/src/index";
import { AGGREGATE_FUNCTIONS, BUILTIN_FUNCTIONS, type BuiltinOverload, type ParamType } from "../../../stdlib/src/catalog";
import { AGGREGATES, BUILTIN_SIGNATURES, NULL_TOLERANT, THROWING_EXPORTS, aggregateArity, isAggregateCall, resolveBuiltin } from "./builtins";
import { T, typeToString } from "./types";

const HEAD = `type R = { i: int, f: float, b: bool, s: string, t: time, tags: [string], nums: [int], oi: int?, of: float?, ob: bool?, os: string?, ot: time? }
source xs: R = file("xs.jsonl")
`;

/** A Flow argument of a parameter type: a field, or a literal where no field has the type. */
const ARG: Record<ParamType, string> = { int: "i", float: "f", N: "f", bool: "b", string: "s", time: "t", duration: "90s", "[string]": "tags", "[any]": "nums", any: "i" };
/** The same as an optional field (for functions that handle nulls). */
const OPT_ARG: Partial<Record<ParamType, string>> = { int: "oi", float: "of", N: "of", bool: "ob", string: "os", time: "ot" };

function compileOk(body: string): string {
  const r = compile(HEAD + body, { file: "p.flow" });
  expect(r.diagnostics.filter((d) => d.severity === "error"), body).toEqual([]);
  return r.typescript!;
}

function codes(body: string): string[] {
  return compile(HEAD + body, { file: "p.flow" }).diagnostics.map((d) => d.code);
}

/** What the generated code must contain for this overload: the export, or the inline template's longest literal part. */
function mark(o: BuiltinOverload): string | undefined {
  if (o.inline === undefined) return `${o.export}(`;
  const parts = o.inline.split(/\$\d/).map((p) => p.trim()).filter((p) => p.length > 1);
  return parts.sort((a, b) => b.length - a.length)[0];
}

const CASES = BUILTIN_FUNCTIONS.flatMap((fn) =>
  fn.overloads.flatMap((o) => {
    const min = o.min ?? o.params.length;
    const arities = min === o.params.length ? [min] : [min, o.params.length];
    return arities.map((n) => ({ fn, o, args: o.params.slice(0, n) }));
  }),
);

describe("every overload of the table compiles to its implementation", () => {
  it.each(CASES.map((c) => [`${c.fn.name}(${c.args.join(", ")})`, c] as const))("%s", (_, { fn, o, args }) => {
    const call = `${fn.name}(${args.map((p) => ARG[p]).join(", ")})`;
    // The checker and the generator pick this overload for these argument types.
    const types = args.map((p) => (p === "N" || p === "float" ? T.float : p === "[string]" ? T.array(T.string) : p === "[any]" ? T.array(T.int) : p === "duration" ? T.duration : p === "any" ? T.int : T[p]));
    const r = resolveBuiltin(fn.name, types);
    expect(r && "overload" in r ? r.overload : r, call).toBe(o);
    const code = compileOk(`emit xs | select v = ${call}`);
    const m = mark(o);
    if (m !== undefined) expect(code, call).toContain(m);
    if (o.export !== undefined && o.inline === undefined) expect(code).toMatch(new RegExp(`import \\{[^}]*\\b${o.export}\\b[^}]*\\} from "@flowc/stdlib"`));
  });

  it("rejects optional arguments unless the function has a null policy, then handles the null itself", () => {
    for (const fn of BUILTIN_FUNCTIONS) {
      for (const o of fn.overloads) {
        const opt = OPT_ARG[o.params[0]!];
        if (opt === undefined) continue;
        const call = `${fn.name}(${[opt, ...o.params.slice(1, o.min ?? o.params.length).map((p) => ARG[p])].join(", ")})`;
        if (fn.nulls === undefined) {
          expect(codes(`emit xs | select v = ${call}`), call).toEqual(["E0205"]);
        } else {
          const code = compileOk(`emit xs | select v = ${call}`);
          expect(code, call).toContain(`(r.${opt} === null ? ${fn.nulls === "propagate" ? "null" : fn.nulls.tolerate} : `);
        }
      }
    }
    expect([...NULL_TOLERANT]).toEqual(["string"]);
  });

  it("keeps the readers' views of the table: names, aggregates, arities, throwing exports", () => {
    expect(Object.keys(BUILTIN_SIGNATURES)).toEqual(BUILTIN_FUNCTIONS.map((f) => f.name));
    expect([...AGGREGATES]).toEqual(AGGREGATE_FUNCTIONS.map((a) => a.name));
    expect(aggregateArity("count")).toEqual([0, 1]);
    expect(aggregateArity("percentile")).toEqual([2, 2]);
    expect(aggregateArity("max_by")).toEqual([2, 2]);
    expect(aggregateArity("sum")).toEqual([1, 1]);
    expect(isAggregateCall("min", 1)).toBe(true);
    expect(isAggregateCall("min", 2)).toBe(false);
    expect(isAggregateCall("upper", 1)).toBe(false);
    // The emitter's set of stdlib functions that can fail on a record (no fused loops then).
    expect([...THROWING_EXPORTS].sort()).toEqual(
      ["flow_date", "flow_div", "flow_fdiv", "flow_format_time", "flow_from_epoch_ms", "flow_from_epoch_s", "flow_int", "flow_matches", "flow_mod", "flow_pow", "flow_regex_extract", "flow_sqrt", "flow_time_string", "flow_trunc"],
    );
  });
});

describe("where the old tables disagreed (LANGUAGE.md decides)", () => {
  const typeOf = (expr: string) => {
    const r = compile(HEAD + `emit xs | select v = ${expr}`, { file: "p.flow", checkOnly: true });
    expect(r.diagnostics.filter((d) => d.severity === "error"), expr).toEqual([]);
    const t = r.typed!.outputs[0]!.pipeline.out.element;
    return t.kind === "record" ? typeToString(t.fields[0]!.type) : typeToString(t);
  };

  it("int(x) takes a number, time, duration, bool or string (a string gives int?)", () => {
    expect(typeOf("int(f)")).toBe("int");
    expect(typeOf("int(t)")).toBe("int");
    expect(typeOf("int(90s)")).toBe("int");
    expect(typeOf("int(b)")).toBe("int");
    expect(typeOf("int(s)")).toBe("int?");
    expect(codes("emit xs | select v = int(tags)")).toEqual(["E0209"]);
  });

  it("len(x) takes a string or an array", () => {
    expect(typeOf("len(s)")).toBe("int");
    expect(typeOf("len(tags)")).toBe("int");
    expect(typeOf("len(split(s, \",\"))")).toBe("int");
    expect(codes("emit xs | select v = len(i)")).toEqual(["E0209"]);
  });

  it("div(a, b) is integer division of ints; abs takes a duration too", () => {
    expect(codes("emit xs | select v = div(f, 2)")).toEqual(["E0209"]);
    expect(typeOf("div(i, 2)")).toBe("int");
    expect(typeOf("abs(t - t)")).toBe("duration");
  });

  it("sqrt and pow can fail on a record (the stdlib table said they could not), so their stages are not fused into a range loop", () => {
    const loop = (e: string) => /for \(let r = from/.test(compile(`source n: int = range(0, 10)\nemit n | map ${e}`, { file: "r.flow" }).typescript!);
    expect(loop("abs(it) * 2")).toBe(true);
    expect(loop("sqrt(float(it))")).toBe(false);
    expect(loop("pow(2, it)")).toBe(false);
    expect(loop("div(it, 3)")).toBe(false);
  });

  it("messages list what the overloads accept", () => {
    const msg = (body: string) => compile(HEAD + body, { file: "p.flow" }).diagnostics.map((d) => d.message);
    expect(msg("emit xs | select v = int(tags)")).toEqual(["argument 1 of `int`: expected a number, time, duration, bool or string, found [string]"]);
    expect(msg("emit xs | select v = abs(s)")).toEqual(["argument 1 of `abs`: expected int, float or duration, found string"]);
    expect(msg("emit xs | select v = string(tags)")).toEqual(["argument 1 of `string`: expected a scalar, found [string]"]);
    expect(msg("emit xs | select v = min(b, b)")).toEqual(["argument 1 of `min`: expected int, float, string, time or duration, found bool"]);
    expect(msg("emit xs | select v = min(i, s)")).toEqual(["argument 2 of `min`: expected int or float, found string"]);
    expect(msg("emit xs | select v = round(f, 1, 2)")).toEqual(["`round` takes 1 argument, but 3 were given"]);
    expect(msg("emit xs | select v = substr(s)")).toEqual(["`substr` takes 2 to 3 arguments, but 1 was given"]);
  });
});

async function run(body: string, rows: object[]): Promise<unknown[]> {
  const code = compileOk(body);
  const { code: js } = await bundle(code, { resolveDir: process.cwd(), main: false });
  const dir = mkdtempSync(join(tmpdir(), "flowc-builtins-"));
  try {
    const file = join(dir, "m.mjs");
    writeFileSync(file, js);
    const mod = (await import(pathToFileURL(file).href)) as { program: Program };
    const out: unknown[] = [];
    const files = { "xs.jsonl": rows.map((r) => JSON.stringify(r)).join("\n") + "\n" };
    await runProgram(mod.program, { env: createMemoryEnv({ files }), onRow: { out1: (r) => out.push(r) }, summary: false });
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("string(x) of a null is \"null\" for every type (it used to be null for a string? and 1970 for a time?)", () => {
  it("runs", async () => {
    const base = { i: 1, f: 1.5, b: true, s: "x", t: 0, tags: [], nums: [] };
    const out = await run("emit xs | select a = string(oi), b = string(os), c = string(ot), d = string(ob), e = string(of)", [
      { ...base, oi: null, os: null, ot: null, ob: null, of: null },
      { ...base, oi: 7, os: "hi", ot: "2026-01-02T03:04:05Z", ob: false, of: 2.5 },
    ]);
    expect(out).toEqual([
      { a: "null", b: "null", c: "null", d: "null", e: "null" },
      { a: "7", b: "hi", c: "2026-01-02T03:04:05.000Z", d: "false", e: "2.5" },
    ]);
  }, 30_000);
});
