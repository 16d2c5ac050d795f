// Program text is never code: names and strings holding comment closers, line terminators,
// quotes, backslashes and template syntax go through every place a name or a string can appear,
// and the generated module (TypeScript and JavaScript) must keep the text verbatim in its rows
// and run nothing else. fast-check prints the seed and the shrunk input on failure.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compile } from "../compiler/src/pipeline";
import { bundle } from "../compiler/src/cli/bundle";
import { createMemoryEnv, runProgram, type Program } from "../runtime/src/index";

/** What an injected statement would do: set this global. */
const SENTINEL = "__flowcInjected";
const PAYLOAD = `globalThis.${SENTINEL} = 1;`;

/** Pieces that have ended comments, strings or lines in generated code. */
const PIECES = ["*/", "/*", "//", "\u2028", "\u2029", "\r", "${", "'", '"', "\\", "`", " ", "a", "x1", PAYLOAD, "*/ " + PAYLOAD + " /*", "\u2028" + PAYLOAD, "\r" + PAYLOAD, "-->", "<!--", "\\u0041", "__proto__"];

/** Text for a backtick name: no backtick or newline (the grammar ends a quoted name there). */
const nameText = fc
  .array(fc.constantFrom(...PIECES.filter((p) => !p.includes("`") && !p.includes("\n"))), { minLength: 1, maxLength: 5 })
  .map((ps) => ps.join(""))
  .filter((s) => s.trim() !== "");
/** Text for a string literal's value (escaped into Flow source by `flowString`). */
const stringText = fc.array(fc.constantFrom(...PIECES, "\n"), { minLength: 0, maxLength: 5 }).map((ps) => ps.join(""));

/** A Flow string literal of `s`: quotes and backslashes escaped, everything else raw (CR, U+2028 included). */
const flowString = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;
const bt = (name: string) => `\`${name}\``;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "flowc-inject-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let moduleCount = 0;
async function runSource(source: string, files: Record<string, string>, javascript: boolean): Promise<Record<string, unknown[]>> {
  const r = compile(source, { file: "prog*/ x.flow", javascript });
  const errors = r.diagnostics.filter((d) => d.severity === "error");
  if (errors.length) throw new Error(`compile errors:\n${errors.map((d) => d.code + " " + d.message).join("\n")}\n${source}`);
  const { code } = await bundle(r.typescript!, { resolveDir: process.cwd(), main: false });
  const file = join(dir, `m${moduleCount++}.mjs`);
  writeFileSync(file, code);
  const mod = (await import(pathToFileURL(file).href)) as { program: Program };
  const rows: Record<string, unknown[]> = {};
  const onRow = new Proxy({}, { get: (_, name: string) => (row: unknown) => (rows[name] ??= []).push(row) });
  await runProgram(mod.program, { env: createMemoryEnv({ files }), onRow: Object.fromEntries(mod.program.outputs.map((o) => [o.name, (row: unknown) => (rows[o.name] ??= []).push(row)])) ?? onRow, summary: false });
  return rows;
}

describe("program text never becomes code", () => {
  it("names and strings in every position are kept verbatim and never run", async () => {
    await fc.assert(
      fc.asyncProperty(nameText, nameText, nameText, stringText, stringText, fc.boolean(), async (field, item, alias, str1, str2, javascript) => {
        fc.pre(new Set([field, item, alias, "k", "t", "s"]).size === 6);
        delete (globalThis as Record<string, unknown>)[SENTINEL];
        const source = [
          `// a comment naming ${str1.replace(/[\n\r\u2028\u2029]/g, " ")}`,
          `type R = { ${bt(field)}: int, k: int, t: time, s: string }`,
          `source rs: R = file("r.jsonl") event time t`,
          `source ps: R = file("p.jsonl") event time t`,
          `emit a = rs | where s != ${flowString(str1)} | select ${bt(alias)} = ${bt(field)}, tag = ${flowString(str2)}, rec = { ${bt(item)}: s }`,
          `emit b = rs | group by ${bt(item)} = ${bt(field)} | agg ${bt(alias)} = count(), ${bt(field)} = max(s)`,
          `emit c = rs | window tumbling(10s) | top 1 by if s == ${flowString(str2)} then 1 else ${bt(field)} desc`,
          `emit d = rs | join ps on rs.k == ps.k and ps.s != ${flowString(str1)} within 1m | select ${bt(item)} = rs.s`,
          `emit e = rs | extend ${bt(item)} = ${flowString(str1)} + s | map ${bt(item)}`,
        ].join("\n");
        const record = (k: number) => JSON.stringify({ [field]: k, k, t: 1000 * k, s: `s${k}` });
        const rows = await runSource(source, { "r.jsonl": [record(1), record(2)].join("\n") + "\n", "p.jsonl": record(1) + "\n" }, javascript);
        expect((globalThis as Record<string, unknown>)[SENTINEL]).toBeUndefined();
        expect(rows.a).toEqual([1, 2].map((k) => ({ [alias]: k, tag: str2, rec: { [item]: `s${k}` } })));
        expect(Object.keys(rows.a![0] as object)).toEqual([alias, "tag", "rec"]);
        expect(rows.b).toEqual([1, 2].map((k) => ({ [item]: k, [alias]: 1, [field]: `s${k}` })));
        expect(rows.c).toEqual([{ [field]: 2, k: 2, t: 2000, s: "s2" }]);
        expect(rows.d).toEqual(str1 === "s1" ? undefined : [{ [item]: "s1" }]);
        expect(rows.e).toEqual([`${str1}s1`, `${str1}s2`]);
      }),
      { numRuns: Number(process.env.INJECTION_RUNS ?? 15) },
    );
  }, 120_000);

  it("the reported examples do not run", async () => {
    const cases = [
      "type R = { `a*/ globalThis.__flowcInjected = 1; /*`: int }\nsource rs: R = file(\"r.jsonl\")\nemit rs",
      "type R = { a: int }\nsource rs: R = file(\"r.jsonl\")\nemit rs | group by a | agg `x*/ globalThis.__flowcInjected = 1; /*` = count()",
      "type R = { a: int, t: time }\nsource rs: R = file(\"r.jsonl\") event time t\nemit rs | window tumbling(1s) | top 1 by if \"*/ globalThis.__flowcInjected = 1; /*\" == \"\" then a else 0",
      "type R = { a: int, t: time }\nsource rs: R = file(\"r.jsonl\") event time t\nemit rs | join rs as q on rs.a == q.a and \"*/ globalThis.__flowcInjected = 1; /*\" != \"\" within 1s",
      "type R = { a: int }\nsource rs: R = file(\"r.jsonl\")\nemit rs | where \"\u2028globalThis.__flowcInjected = 1;\" != \"\"",
      "type R = { a: int }\nsource rs: R = file(\"r.jsonl\")\nemit rs | where \"\rglobalThis.__flowcInjected = 1;\" != \"\"",
      "type R = { `\u2029globalThis.__flowcInjected = 1;`: int }\nsource rs: R = file(\"r.jsonl\")\nemit rs",
    ];
    for (const source of cases) {
      for (const javascript of [false, true]) {
        delete (globalThis as Record<string, unknown>)[SENTINEL];
        const field = /`([^`]*)`/.exec(source)?.[1];
        const line = source.startsWith("type R = { `") ? JSON.stringify({ [field!]: 1 }) : JSON.stringify({ a: 1, t: 0 });
        await runSource(source, { "r.jsonl": line + "\n" }, javascript);
        expect((globalThis as Record<string, unknown>)[SENTINEL], source).toBeUndefined();
      }
    }
  }, 60_000);
});

/** Every name a plain object inherits: as field names they must stay ordinary data. */
const PROTO_NAMES = ["__proto__", "constructor", "toString", "valueOf", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "__defineGetter__", "__lookupGetter__"];

describe("names from programs never touch object prototypes", () => {
  it.each(PROTO_NAMES)("a field named %s built by select, extend, agg, group by, a record literal and decoded from input", async (name) => {
    const f = bt(name);
    const source = [
      `type R = { ${f}: int, k: int, t: time }`,
      `source rs: R = file("r.jsonl") event time t`,
      `emit a = rs | select ${f} = k + 1`,
      `emit b = rs | extend ${f} = k * 10`,
      `emit c = rs | group by ${f} = k | agg n = count()`,
      `emit d = rs | group by k | agg ${f} = count()`,
      `emit e = rs | map { ${f}: k }`,
      `emit f = rs | select k, ${f}`,
      `emit g = rs | window tumbling(10s) | group by ${f} | agg ${f}2 = sum(k)`.replace(`${f}2`, bt(name + "2")),
    ].join("\n");
    const rows = await runSource(source, { "r.jsonl": JSON.stringify({ [name]: 7, k: 1, t: 1000 }) + "\n" }, false);
    const own = (row: unknown) => {
      expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
      expect(Object.hasOwn(row as object, name)).toBe(true);
      return JSON.parse(JSON.stringify(row));
    };
    expect(own(rows.a![0])).toEqual({ [name]: 2 });
    expect(own(rows.b![0])).toEqual({ [name]: 10, k: 1, t: 1000 });
    expect(own(rows.c![0])).toEqual({ [name]: 1, n: 1 });
    expect(own(rows.d![0])).toEqual({ k: 1, [name]: 1 });
    expect(own(rows.e![0])).toEqual({ [name]: 1 });
    expect(own(rows.f![0])).toEqual({ k: 1, [name]: 7 });
    expect(own(rows.g![0])).toMatchObject({ [name]: 7, [name + "2"]: 1 });
  }, 30_000);
});
