// Defects found by trying flowc as a new user and as an attacker (issue: hardening): each test
// here failed before its fix.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { flowc, TMP } from "./helpers";
import { compile } from "../compiler/src/pipeline";
import { renderDiagnostics } from "../compiler/src/diagnostics/render";

let dir: string;
beforeAll(() => {
  mkdirSync(TMP, { recursive: true });
  dir = mkdtempSync(join(TMP, "hardening-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `files` into a fresh folder and runs `flowc run program.flow ARGS` there. */
async function run(program: string, files: Record<string, string> = {}, args: string[] = []) {
  const d = mkdtempSync(join(dir, "case-"));
  writeFileSync(join(d, "program.flow"), program);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return { dir: d, ...(await flowc(["run", "program.flow", ...args], { cwd: d })) };
}

const rowsOf = (stdout: string) => stdout.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l));

/** Diagnostics of a program, rendered as `flowc check` prints them. */
function check(source: string) {
  const r = compile(source, { file: "p.flow", checkOnly: true });
  return { diagnostics: r.diagnostics, text: renderDiagnostics(r.diagnostics, "p.flow", source, { color: false }) };
}

describe("non-finite results are run-time errors of their record (item 9)", () => {
  const input = [
    { a: 10, b: 0, x: 1.5 },
    { a: 10, b: 3, x: -4.0 },
    { a: 7, b: 2, x: 2.0 },
  ].map((r) => JSON.stringify(r)).join("\n") + "\n";
  const head = `type R = { a: int, b: int, x: float }\nsource rs: R = file("r.jsonl")\n`;

  it.each([
    ["a % b", [{ v: 1 }, { v: 1 }], "division by zero (10 % 0)"],
    ["x / float(b)", [{ v: -4 / 3 }, { v: 1 }], "division by zero (1.5 / 0)"],
    ["sqrt(x)", [{ v: Math.sqrt(1.5) }, { v: Math.sqrt(2) }], "sqrt(-4) is not a finite number"],
    ["pow(10.0, x * 200.0)", [{ v: 1e-800 === 0 ? 0 : Math.pow(10, -800) }], "pow(10, 300) is not a finite number"],
    ["round(x / float(b))", [{ v: -1 }, { v: 1 }], "division by zero (1.5 / 0)"],
  ])("%s", async (expr, rows, message) => {
    const r = await run(`${head}emit rs | select v = ${expr}`, { "r.jsonl": input });
    expect(r.stdout).not.toContain("null");
    if (expr.startsWith("pow")) {
      // 10^300 is finite, 10^-800 is 0; only 10^400 (x = 2.0) fails.
      expect(rowsOf(r.stdout)).toEqual([{ v: Math.pow(10, 300) }, { v: 0 }]);
      expect(r.stderr).toContain("pow(10, 400) is not a finite number");
    } else {
      expect(rowsOf(r.stdout)).toEqual(rows);
      expect(r.stderr).toContain(message);
    }
    expect(r.code).toBe(0);
  });

  it("in an agg item, drops that window's row (reported) and keeps the others", async () => {
    const ticks = [0, 1000, 11000, 12000].map((t, i) => JSON.stringify({ a: i, b: t < 10000 ? 0 : 1, x: 1.0, t })).join("\n") + "\n";
    const program = `type R = { a: int, b: int, x: float, t: time }\nsource rs: R = file("r.jsonl") event time t\n` +
      `emit rs | window tumbling(10s) | agg n = count(), per = sum(x) / float(sum(b))\n` +
      `emit final rs | group by b | agg m = sum(x) / float(max(b))`;
    const r = await run(program, { "r.jsonl": ticks });
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n").filter((l) => l);
    expect(lines).toEqual([
      'out1\t{"window_start":"1970-01-01T00:00:10.000Z","window_end":"1970-01-01T00:00:20.000Z","n":2,"per":1}',
      'out2\t{"b":1,"m":2}',
    ]);
    expect(r.stderr).toContain("program.flow:3 agg: /: division by zero (2 / 0)");
    expect(r.stderr).toContain("program.flow:4 agg: /: division by zero (2 / 0)");
  });

  it("stops with exit 65 under --strict", async () => {
    const r = await run(`${head}emit rs | select v = a % b`, { "r.jsonl": input }, ["--strict"]);
    expect(r.code).toBe(65);
  });
});

describe("connector arguments are positional or named, and checked (item 10)", () => {
  it("reads named formats", async () => {
    const csv = await run(`type C = { a: int, b: string }\nsource cs: C = stdin(format: "csv")\nemit cs`, {});
    expect(csv.code).toBe(0);
    const d = mkdtempSync(join(dir, "case-"));
    writeFileSync(join(d, "program.flow"), `type C = { a: int, b: string }\nsource cs: C = stdin(format: "csv")\nemit cs`);
    const r = await flowc(["run", "program.flow"], { cwd: d, input: "a,b\n1,x\n2,y\n" });
    expect(rowsOf(r.stdout)).toEqual([{ a: 1, b: "x" }, { a: 2, b: "y" }]);
    const txt = await run(`type C = { a: int }\nsource cs: C = file("clicks.txt", format: "jsonl")\nemit cs`, { "clicks.txt": '{"a":1}\n{"a":2}\n' });
    expect(rowsOf(txt.stdout)).toEqual([{ a: 1 }, { a: 2 }]);
    const named = await run(`source xs: int = range(to: 3, from: 1)\nemit xs`);
    expect(rowsOf(named.stdout)).toEqual([1, 2]);
  });

  it.each([
    ['stdin(delimiter: ";")', "E0404", "stdin() has no argument `delimiter`"],
    ['file("a.csv", format: "csv", format: "csv")', "E0405", "the argument `format` of file() is given twice"],
    ['file(format: "csv")', "E0406", "file() needs the argument `path`"],
    ['file("a.csv", fromat: "csv")', "E0404", "did you mean `format`?"],
    ['file("a.csv", format: 3)', "E0219", "the argument `format` of file() must be a constant"],
    ['file("a.csv", format: "xml")', "E0407", 'file(): unknown format "xml"'],
    ['range(1, 2, 3)', "E0208", "at most 2 positional arguments"],
  ])("%s is an error", (call, code, text) => {
    const r = check(`type C = { a: int }\nsource cs: C = ${call}\nemit cs`);
    expect(r.diagnostics.map((d) => d.code)).toContain(code);
    expect(r.text).toContain(text);
  });
});

describe("syntax errors speak to SQL and JavaScript habits (item 13)", () => {
  const head = `type R = { a: int, b: string, t: time }\nsource rs: R = file("r.jsonl")\n`;
  it.each([
    ["emit rs | where a > 1 && a < 5", "E0012", "`&&` is not an operator in Flow; write `and`"],
    ["emit rs | where a > 1 || a < 5", "E0012", "`||` is not an operator in Flow; write `or`"],
    ["emit rs | where b == 'x y'", "E0013", 'write "x y"'],
    ["emit rs | group by b | agg n = count(*)", "E0014", "`count(*)` is SQL; in Flow write `count()`"],
    ['source x = file("r.jsonl")\nemit x', "E0015", "the source `x` needs a type"],
    ["emit rs | where a > 1 andx", "E0001", "did you mean `and x`?"],
    ["emit rs | group byx a | agg n = count()", "E0001", "unexpected `byx`"],
  ])("%s", (body, code, text) => {
    const r = check(head + body);
    expect(r.diagnostics.map((d) => d.code)).toEqual([code]);
    expect(r.text).toContain(text);
  });

  it("never names grammar rules or internal types", () => {
    for (const body of ["emit rs | where a > 1 andx", "emit rs | top 3 by a descx", "emit rs | select y = {a: nope} | where y == 1", "let s = rs | select y = nope\nemit union(s, rs)"]) {
      const r = check(head + body);
      expect(r.text).not.toMatch(/identRest|<error>|not an? [a-z]+[A-Z]/);
      expect(r.diagnostics.length).toBeGreaterThan(0);
    }
  });

  it("accepts a UTF-8 byte order mark", () => {
    expect(check("\uFEFF" + head + "emit rs").diagnostics).toEqual([]);
  });
});

describe("windows over arrival time warn (item 12)", () => {
  it("suggests the record's time field", () => {
    const r = check(`type R = { a: int, at: time }\nsource rs: R = file("r.jsonl")\nemit rs | window tumbling(10s) | agg n = count()`);
    expect(r.diagnostics.map((d) => d.code)).toEqual(["W0005"]);
    expect(r.text).toContain("event time at");
  });
  it("is silent with an event time", () => {
    expect(check(`type R = { a: int, at: time }\nsource rs: R = file("r.jsonl") event time at\nemit rs | window tumbling(10s) | agg n = count()`).diagnostics).toEqual([]);
  });
});

describe("the npm start demo explains itself (item 15)", () => {
  it("q5's rows carry their window", async () => {
    const { readFileSync } = await import("node:fs");
    const source = readFileSync(new URL("../examples/nexmark/q5.flow", import.meta.url), "utf8");
    const r = compile(source, { file: "q5.flow" });
    const element = r.optimized!.outputs[0]!.pipeline.out.element;
    expect(element.kind === "record" ? element.fields.map((f) => f.name) : []).toEqual(["window_start", "window_end", "auction", "num"]);
  });
});

describe("npm run conformance from a clean clone (item 16)", () => {
  it("says where the cases live and exits 1 when ../shared is absent, and runs the checker when present", async () => {
    const { copyFileSync } = await import("node:fs");
    const { spawnSync } = await import("node:child_process");
    const base = mkdtempSync(join(dir, "clone-"));
    mkdirSync(join(base, "repo", "scripts"), { recursive: true });
    copyFileSync(join(__dirname, "..", "scripts", "conformance.mjs"), join(base, "repo", "scripts", "conformance.mjs"));
    const script = join(base, "repo", "scripts", "conformance.mjs");
    const absent = spawnSync(process.execPath, [script], { encoding: "utf8" });
    expect(absent.status).toBe(1);
    expect(absent.stderr.trim().split("\n")).toHaveLength(1);
    expect(absent.stderr).toContain("the cases are not part of this repository");
    mkdirSync(join(base, "shared", "conformance"), { recursive: true });
    writeFileSync(join(base, "shared", "conformance", "check.mjs"), `console.log(JSON.stringify(process.argv.slice(2))); process.exit(3);\n`);
    const present = spawnSync(process.execPath, [script, "--verbose", "c01"], { encoding: "utf8" });
    expect(present.status).toBe(3);
    expect(JSON.parse(present.stdout)).toEqual(["--flowc", join(base, "repo", "bin", "flowc"), "--verbose", "c01"]);
  });
});

describe("projection pushdown never narrows what --late writes", () => {
  it("a late record after `distinct` is written whole", async () => {
    const program = `type Click = { user: string, page: string, ts: time }\nsource clicks: Click = file("c.jsonl") event time ts\n` +
      `emit clicks | distinct user within 1m | window tumbling(10s) | agg n = count()`;
    const input = ['{"user":"a","page":"p1","ts":1000}', '{"user":"b","page":"p2","ts":15000}', '{"user":"c","page":"p3","ts":2000}'].join("\n") + "\n";
    const r = await run(program, { "c.jsonl": input }, ["--late", "late.jsonl"]);
    expect(r.code).toBe(0);
    const { readFileSync } = await import("node:fs");
    expect(readFileSync(join(r.dir, "late.jsonl"), "utf8")).toBe('{"user":"c","page":"p3","ts":"1970-01-01T00:00:02.000Z"}\n');
  });
});
