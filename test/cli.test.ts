// The command-line contract of LANGUAGE.md §9: help and version, exit codes, JSON diagnostics,
// colours, build / run equivalence, --emit-ts, graph formats, dead-letter and late files.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import { printGraph } from "../compiler/src/ir/print";
import { ensureCli, expectBuiltModuleLikeRun, FIXTURES, FLOWC, flowc, node, ROOT, TMP } from "./helpers";

let work: string;

/** A private copy of a fixture folder (so written files never land in test/fixtures). */
function copyFixture(name: string): string {
  const dir = join(work, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  for (const f of ["generated.ts", "graph.txt", "output.jsonl", "diagnostics.txt"]) rmSync(join(dir, f), { force: true });
  return dir;
}

const fixtureOutput = (name: string) => readFileSync(join(FIXTURES, name, "output.jsonl"), "utf8");
const lines = (s: string) => s.split("\n").filter((l) => l !== "");
const ESC = "\x1b[";

beforeAll(() => {
  ensureCli();
  mkdirSync(TMP, { recursive: true });
  work = mkdtempSync(join(TMP, "cli-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("help and version", () => {
  it("--help prints the usage on stdout and exits 0", async () => {
    for (const args of [["--help"], ["-h"], ["help"]]) {
      const r = await flowc(args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/^flowc \S+/);
      for (const cmd of ["check", "run", "build", "graph"]) expect(r.stdout).toContain(`flowc ${cmd} PROGRAM.flow`);
      expect(r.stdout).toMatch(/Exit codes: 0 ok, 1 compile errors, 2 usage errors, 65 bad input .*66 input not found, 70 internal error, 73 output not writable, 130\/143 stopped by SIGINT\/SIGTERM/);
    }
  });

  it("--version prints the package version", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const r = await flowc(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`flowc ${version}\n`);
    expect(r.stderr).toBe("");
  });
});

// The exit-code cases for valid and rejected programs and for usage errors, and the dot, mermaid
// and svg graph formats, are in cli-commands.stress.test.ts (npm test's time budget).
describe("exit codes", () => {
  it("65 for bad input under --strict, after the rows before it", async () => {
    const dir = copyFixture("v_bad_input");
    const r = await flowc(["run", "input.flow", "--strict"], { cwd: dir });
    expect(r.code).toBe(65);
    expect(r.stdout).toBe('{"sensor":"a","value":1,"count":2}\n');
    expect(r.stderr).toContain("readings.jsonl:2");
    // Without --strict, bad records are reported and skipped.
    const lax = await flowc(["run", "input.flow"], { cwd: dir });
    expect(lax.code).toBe(0);
    expect(lax.stdout).toBe(fixtureOutput("v_bad_input"));
    for (const n of [2, 3, 4, 5, 6, 7, 10]) expect(lax.stderr).toContain(`readings.jsonl:${n}:`);
  });

  it("warnings go to stderr from check and run, and do not fail", async () => {
    const dir = copyFixture("w_unbounded_join");
    for (const cmd of ["check", "run"]) {
      const r = await flowc([cmd, "input.flow"], { cwd: dir });
      expect(r.code, cmd).toBe(0);
      expect(r.stderr).toContain("warning[W0001]: join without `within` or a window keeps unbounded state");
      expect(r.stdout).not.toContain("warning");
    }
  });
});

describe("check --format json", () => {
  it("reports every diagnostic with its fields", async () => {
    const file = join(FIXTURES, "e_several_independent", "input.flow");
    const r = await flowc(["check", file, "--format", "json"]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { ok: boolean; file: string; diagnostics: Record<string, unknown>[] };
    expect(out.ok).toBe(false);
    expect(out.diagnostics.map((d) => d.code)).toEqual(["E0201", "E0204", "E0334", "E0301"]);
    for (const d of out.diagnostics) {
      for (const k of ["code", "severity", "message", "file", "line", "column", "endLine", "endColumn", "hints"]) expect(d, `field ${k}`).toHaveProperty(k);
      expect(d.severity).toBe("error");
      expect(d.file).toBe(file);
      expect(Array.isArray(d.hints)).toBe(true);
    }
    expect(out.diagnostics[0]).toMatchObject({ code: "E0201", message: "unknown field `chanel` on Bid", line: 6, column: 11, endLine: 6, endColumn: 17 });
    expect(out.diagnostics[0]!.hints).toContain("did you mean `channel`?");
    expect(out.diagnostics[1]).toMatchObject({ code: "E0204", line: 7, column: 35, endLine: 7, endColumn: 36 });
    expect(out.diagnostics[1]!.hints).toContain("remove the quotes to use a number");
  });

  it("gives ok and an empty list for a valid program, and warnings with severity", async () => {
    const ok = await flowc(["check", join(FIXTURES, "v_where_select", "input.flow"), "--format", "json"]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, diagnostics: [] });
    const warn = await flowc(["check", join(FIXTURES, "w_unbounded_distinct", "input.flow"), "--format=json"]);
    expect(warn.code).toBe(0);
    const w = JSON.parse(warn.stdout) as { ok: boolean; diagnostics: { code: string; severity: string }[] };
    expect(w.ok).toBe(true);
    expect(w.diagnostics).toMatchObject([{ code: "W0002", severity: "warning" }]);
  });
});

describe("colour", () => {
  const bad = join(FIXTURES, "e_unknown_field", "input.flow");
  // `script` gives the CLI a terminal, the only case where it may colour its output.
  const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0;
  const inTerminal = (env: Record<string, string | undefined>, flags: string[] = []) => {
    const e: Record<string, string | undefined> = { ...process.env, TERM: "xterm", ...env };
    for (const k of Object.keys(e)) if (e[k] === undefined) delete e[k];
    const cmd = [process.execPath, FLOWC, "check", ...flags, bad].map((a) => `'${a}'`).join(" ");
    return spawnSync("script", ["-qec", cmd, "/dev/null"], { encoding: "utf8", env: e as NodeJS.ProcessEnv }).stdout;
  };

  it("never colours output that is not a terminal", async () => {
    const r = await flowc(["check", bad], { env: { NO_COLOR: undefined, FORCE_COLOR: "1", TERM: "xterm" } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E0201]");
    expect(r.stderr).not.toContain(ESC);
  });

  it.skipIf(!hasScript)("colours a terminal unless NO_COLOR is set or TERM=dumb", () => {
    const coloured = inTerminal({ NO_COLOR: undefined });
    expect(coloured).toContain("unknown field `prise` on Bid");
    expect(coloured).toContain(ESC);
    const plain = inTerminal({ NO_COLOR: "1" });
    expect(plain).toContain("error[E0201]: unknown field `prise` on Bid");
    expect(plain).not.toContain(ESC);
    expect(inTerminal({ NO_COLOR: undefined, TERM: "dumb" })).not.toContain(ESC);
  });

  it.skipIf(!hasScript)("--no-color turns colour off on a terminal", () => {
    // The CLI accepts --no-color (it is in its list of flags); it should do what it says.
    const out = inTerminal({ NO_COLOR: undefined }, ["--no-color"]);
    expect(out).toContain("unknown field `prise`");
    expect(out).not.toContain(ESC);
  });
});

describe("build", () => {
  // Built modules of v_union, v_lookup_csv, v_import_ts, v_emit_final_where, v_session_window
  // and others are run in the stress set (cli-commands.stress.test.ts, embed.stress.test.ts).
  for (const name of ["v_tumbling_all_aggs"]) {
    it.concurrent(`node OUT.mjs prints what flowc run prints: ${name}`, async ({ expect }) => {
      await expectBuiltModuleLikeRun(copyFixture(name), name, expect);
    });
  }

  it("--minify and --sourcemap give the same rows; the map is written next to the module", async () => {
    const dir = copyFixture("v_hop_window");
    const out = join(dir, "m.mjs");
    const b = await flowc(["build", "input.flow", "-o", out, "--minify", "--sourcemap"], { cwd: dir });
    expect(b.code, b.stderr).toBe(0);
    expect(existsSync(out + ".map")).toBe(true);
    expect(readFileSync(out, "utf8")).toContain("//# sourceMappingURL=m.mjs.map");
    const map = JSON.parse(readFileSync(out + ".map", "utf8")) as { version: number; sources: string[] };
    expect(map.version).toBe(3);
    const r = await node([out], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(fixtureOutput("v_hop_window"));
  });

  it("--emit-ts DIR writes the generated TypeScript", async () => {
    const dir = copyFixture("v_fn_decls");
    const tsDir = join(dir, "ts-out");
    const b = await flowc(["build", "input.flow", "-o", join(dir, "x.mjs"), "--emit-ts", tsDir], { cwd: dir });
    expect(b.code, b.stderr).toBe(0);
    expect(readdirSync(tsDir)).toEqual(["input.ts"]);
    const expected = compile(readFileSync(join(dir, "input.flow"), "utf8"), { file: "input.flow" }).typescript;
    expect(readFileSync(join(tsDir, "input.ts"), "utf8")).toBe(expected);
  });
});

describe("graph", () => {
  const file = join(FIXTURES, "v_union", "input.flow");
  const optimized = () => compile(readFileSync(file, "utf8"), { file: "input.flow" }).optimized!;

  it("--format text is printGraph of the optimized graph", async () => {
    const r = await flowc(["graph", file, "--format", "text"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(printGraph(optimized()));
  });

  it("-o FILE writes the drawing to a file", async () => {
    const out = join(work, "graph.dot");
    const r = await flowc(["graph", file, "--format", "dot", "-o", out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(out, "utf8")).toMatch(/^digraph flow \{/);
  });
});

describe("run files", () => {
  it("--dead-letter writes one JSON line per bad record", async () => {
    const dir = copyFixture("v_bad_input");
    const r = await flowc(["run", "input.flow", "--dead-letter", "dead.jsonl"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fixtureOutput("v_bad_input"));
    const input = readFileSync(join(dir, "readings.jsonl"), "utf8").split("\n");
    const dead = lines(readFileSync(join(dir, "dead.jsonl"), "utf8")).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(dead.map((d) => d.line)).toEqual([2, 3, 4, 5, 6, 7, 10]);
    for (const d of dead) {
      expect(Object.keys(d)).toEqual(["source", "file", "line", "error", "raw"]);
      expect(d.source).toBe("readings");
      expect(d.file).toBe("readings.jsonl"); // the path as written in the program
      expect(d.raw).toBe(input[(d.line as number) - 1]);
      expect(typeof d.error).toBe("string");
    }
    expect(dead[1]!.error).toBe('field "value": expected float, got "abc"');
  });

  it("--late writes each late record as its JSON record", async () => {
    const dir = copyFixture("v_late_records");
    const r = await flowc(["run", "input.flow", "--late", "late.jsonl"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(fixtureOutput("v_late_records"));
    expect(r.stderr).toMatch(/ 2 late/);
    // The records at 4s and 9s arrive after their windows fired; the whole input record is written.
    expect(lines(readFileSync(join(dir, "late.jsonl"), "utf8")).map((l) => JSON.parse(l))).toEqual([
      { sensor: "s", v: 4, ts: "2026-01-01T00:00:04.000Z" },
      { sensor: "s", v: 7, ts: "2026-01-01T00:00:09.000Z" },
    ]);
  });

  it("--out NAME=PATH sends one output to a file (format from the extension)", async () => {
    const dir = copyFixture("v_named_outputs");
    const r = await flowc(["run", "input.flow", "--out", "big=big.jsonl", "--out", "mid=mid.csv"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    const expected = lines(fixtureOutput("v_named_outputs"));
    expect(lines(r.stdout)).toEqual(expected.filter((l) => !l.startsWith("big\t") && !l.startsWith("mid\t")));
    expect(lines(readFileSync(join(dir, "big.jsonl"), "utf8"))).toEqual(expected.filter((l) => l.startsWith("big\t")).map((l) => l.slice(4)));
    expect(readFileSync(join(dir, "mid.csv"), "utf8")).toBe("auction\n2\n");
  });

  it("reads stdin() sources from standard input", async () => {
    const r = await flowc(["run", join(FIXTURES, "v_stdin_lines", "input.flow")], { input: "hello\n\n  world \n" });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('"HELLO"\n"  WORLD "\n');
  });

  it("--quiet drops the run summary; it is never on stdout", async () => {
    const dir = copyFixture("v_range_map");
    const loud = await flowc(["run", "input.flow"], { cwd: dir });
    expect(loud.stderr).toMatch(/^flowc: 7 in \(n 7\), 7 out, 0 late, 0 bad, /m);
    const quiet = await flowc(["run", "input.flow", "--quiet"], { cwd: dir });
    expect(quiet.code).toBe(0);
    expect(quiet.stdout).toBe(loud.stdout);
    expect(quiet.stderr).not.toMatch(/ in \(/);
  });

  it("writes to a file sink declared in the program", async () => {
    const dir = join(work, "sink");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "p.flow"), 'source n: int = range(0, 3)\n\nemit n | map { n: it } -> file("out/rows.csv")\n');
    const r = await flowc(["run", "p.flow"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(join(dir, "out", "rows.csv"), "utf8")).toBe("n\n0\n1\n2\n");
  });
});
