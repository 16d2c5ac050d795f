// Every example in docs/language.md runs here, and its output must be the one the guide shows.
//
// How the guide marks its examples (HTML comments are invisible on GitHub; a reader sees the
// inputs, the program and its output one after the other):
//
//   <!-- input: NAME -->   the next fenced block is the file NAME (any language tag). It stays
//                          in place for every later example until a block of the same NAME
//                          replaces it (`stdin` is the program's standard input).
//   ```flow                an example program. It may be preceded by `<!-- program: NAME.flow -->`
//                          (the file name diagnostics show; default `example.flow`) and
//                          `<!-- run: ARGS -->` (flowc run flags: --late F, --dead-letter F,
//                          --out NAME=PATH, --strict).
//   <!-- output -->        the next block is what `flowc run` prints on stdout.
//   <!-- output: NAME -->  ... the file NAME the run writes (an output, --late, --dead-letter).
//   <!-- stderr -->        ... what `flowc run --quiet` prints on stderr (warnings, bad records).
//   <!-- error -->         the program must not compile; the block is what `flowc check` prints.
//   <!-- exit: N -->       (before the program) the run's exit code, when it is not 0.
//   <!-- expressions -->   the markdown table after it lists expressions: its first column is an
//                          expression in backticks, its second the value printed for it (JSON,
//                          in backticks). They are evaluated together in one program,
//                          `source one: int = range(0, 1)` / `emit one | select v0 = EXPR0, ...`.
//   <!-- cli -->           the next ```console block is a shell session in a folder holding every
//                          input and named program shown so far: `$ flowc ...` runs the real CLI
//                          (its output is its stdout followed by its stderr; the summary's
//                          timings are not compared), `$ echo $?` prints the last exit code and
//                          `$ cat FILE` a file.
//
// Every ```flow block must carry an expected result, every ```console block must be a `cli`
// session, and every expectation must follow an example, so nothing in the guide goes unchecked.
// Programs are compiled to JavaScript and run in this process (with their files in memory), which
// keeps the whole guide to a few seconds; the `cli` sessions use bin/flowc itself.
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile, isInternalError } from "../compiler/src/pipeline";
import { renderDiagnostics } from "../compiler/src/diagnostics/render";
import { resolveExterns } from "../compiler/src/cli/externs";
import type { Program, RunOptions } from "../runtime/src/index";
import { ensureCli, FLOWC, nativeImport, removeSharedRuntime, ROOT, sharedRuntime, TMP } from "./helpers";

const GUIDE = join(ROOT, "docs", "language.md");
const text = readFileSync(GUIDE, "utf8");

interface Block {
  lang: string;
  body: string;
  line: number;
  /** Index of the closing fence. */
  end: number;
  directives: Map<string, string>;
}
interface Example {
  line: number;
  name: string;
  source: string;
  args: string[];
  exit: number;
  files: Map<string, string>;
  stdout?: string;
  stderr?: string;
  error?: string;
  written: Map<string, string>;
  /** The blocks holding the expected results (for UPDATE=1). */
  blocks: Map<string, Block>;
}
interface ExprRow {
  line: number;
  expr: string;
  value: string;
}
interface Session {
  line: number;
  files: Map<string, string>;
  body: string;
}

/** Splits the guide into fenced blocks (with the `<!-- key: value -->` comments just above them) and expression tables. */
function parseGuide(md: string) {
  const lines = md.split("\n");
  const blocks: Block[] = [];
  const tables: ExprRow[][] = [];
  let pending = new Map<string, string>();
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const comment = /^<!--\s*([a-z]+)(?::\s*(.*?))?\s*-->\s*$/.exec(l);
    if (comment) {
      pending.set(comment[1]!, comment[2] ?? "");
      continue;
    }
    if (pending.has("expressions") && l.startsWith("|")) {
      const rows: ExprRow[] = [];
      for (; i < lines.length && lines[i]!.startsWith("|"); i++) {
        const cells = lines[i]!.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim().replace(/\\\|/g, "|"));
        const code = (c: string | undefined) => /^`(.*)`$/.exec(c ?? "")?.[1];
        const expr = code(cells[0]);
        const value = code(cells[1]);
        if (expr !== undefined && value !== undefined) rows.push({ line: i + 1, expr, value });
      }
      tables.push(rows);
      pending = new Map();
      continue;
    }
    const fence = /^(`{3,})(\S*)\s*$/.exec(l);
    if (fence) {
      const start = i;
      const body: string[] = [];
      for (i++; i < lines.length && lines[i] !== fence[1]; i++) body.push(lines[i]!);
      blocks.push({ lang: fence[2]!, body: body.join("\n") + "\n", line: start + 1, end: i, directives: pending });
      pending = new Map();
      continue;
    }
    if (l.trim() !== "") pending = new Map();
  }
  return { blocks, tables };
}

function gather() {
  const { blocks, tables } = parseGuide(text);
  const files = new Map<string, string>();
  const examples: Example[] = [];
  const sessions: Session[] = [];
  const problems: string[] = [];
  let current: Example | undefined;
  for (const b of blocks) {
    const d = b.directives;
    const at = `docs/language.md:${b.line}`;
    if (d.has("input")) {
      files.set(d.get("input")!, b.body);
      continue;
    }
    if (b.lang === "flow") {
      current = {
        line: b.line,
        name: d.get("program") || "example.flow",
        source: b.body,
        args: (d.get("run") ?? "").split(/\s+/).filter((s) => s !== ""),
        exit: Number(d.get("exit") ?? 0),
        files: new Map(files),
        written: new Map(),
        blocks: new Map(),
      };
      examples.push(current);
      if (d.has("program")) files.set(current.name, b.body);
      continue;
    }
    if (d.has("cli")) {
      if (b.lang !== "console") problems.push(`${at}: a cli session must be a console block`);
      sessions.push({ line: b.line, files: new Map(files), body: b.body });
      continue;
    }
    const kinds = ["output", "stderr", "error"].filter((k) => d.has(k));
    if (kinds.length === 0) {
      if (b.lang === "console" || b.lang === "sh") problems.push(`${at}: a ${b.lang} block that is not a checked cli session`);
      continue; // a syntax summary or other non-example text
    }
    if (!current) {
      problems.push(`${at}: an expected result before any example`);
      continue;
    }
    for (const k of kinds) {
      current.blocks.set(k === "output" && d.get("output") ? `output:${d.get("output")}` : k, b);
      if (k === "output" && d.get("output")) current.written.set(d.get("output")!, b.body);
      else if (k === "output") current.stdout = b.body;
      else if (k === "stderr") current.stderr = b.body;
      else current.error = b.body;
    }
  }
  for (const e of examples) {
    if (e.stdout === undefined && e.stderr === undefined && e.error === undefined && e.written.size === 0) problems.push(`docs/language.md:${e.line}: example without an expected result`);
  }
  return { examples, sessions, tables, problems };
}

const { examples, sessions, tables, problems } = gather();

// `UPDATE=1 npx vitest run test/language-guide.test.ts` writes the actual results into the guide
// (review the diff: an output there is a promise to users).
const UPDATE = !!process.env.UPDATE && process.env.UPDATE !== "0";
const edits: { from: number; to: number; lines: string[] }[] = [];
function replaceBlock(b: Block | undefined, body: string) {
  if (b) edits.push({ from: b.line, to: b.end, lines: norm(body).replace(/\n$/, "").split("\n") });
}

let work: string | undefined;
function workDir(): string {
  if (!work) {
    mkdirSync(TMP, { recursive: true });
    work = mkdtempSync(join(TMP, "guide-"));
  }
  return work;
}
afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
  removeSharedRuntime();
  if (UPDATE && edits.length) {
    const lines = text.split("\n");
    for (const e of edits.sort((a, b) => b.from - a.from)) lines.splice(e.from, e.to - e.from, ...(e.lines.join("") === "" ? [] : e.lines));
    writeFileSync(GUIDE, lines.join("\n"));
  }
});

/** Writes files into a fresh folder under the work dir. */
function materialize(name: string, files: Map<string, string>): string {
  const dir = join(workDir(), name);
  mkdirSync(dir, { recursive: true });
  for (const [f, body] of files) {
    if (f === "stdin") continue;
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), body);
  }
  return dir;
}

/** `flowc check` / the diagnostics part of `flowc run`, as the CLI renders them. */
function rendered(diags: Parameters<typeof renderDiagnostics>[0], file: string, source: string): string {
  return diags.length ? renderDiagnostics(diags, file, source, { color: false }) + "\n" : "";
}

// The runtime, its operators and the stdlib bundled once into one module (helpers.ts
// sharedRuntime), which the examples' generated JavaScript imports; programs and that module are
// loaded by Node itself (nativeImport), so each example costs only its compile and run.
const loadRuntime = sharedRuntime;

/** Compiles and runs one example the way `flowc run --quiet ARGS` does, with its files in memory. */
async function runExample(e: Example, index: number) {
  const dir = materialize(`ex${index}`, e.files);
  const externs = await resolveExterns(e.source, dir);
  // JavaScript that imports the runtime and stdlib sources directly (as the playground does), so
  // they are loaded once for all examples instead of being bundled into each one.
  const { url, rt } = await loadRuntime();
  const r = compile(e.source, { file: e.name, externs: externs.signatures, diagnostics: externs.diagnostics, javascript: true, runtime: url, ops: url, stdlib: url });
  let stderr = rendered(r.diagnostics, e.name, e.source);
  if (isInternalError(r)) throw new Error(`docs/language.md:${e.line}: internal compiler error\n${stderr}`);
  if (!r.ok) {
    const n = r.diagnostics.filter((d) => d.severity === "error").length;
    return { compiled: false, stderr: stderr + `flowc: ${n} error${n === 1 ? "" : "s"} in ${e.name}\n`, stdout: "", code: 1, env: undefined };
  }
  const file = join(dir, "program.mjs");
  writeFileSync(file, r.typescript!);
  // A program importing TypeScript helpers goes through vitest, which can load .ts files.
  const imports = (r.typed?.imports.length ?? 0) > 0;
  const mod = (imports ? await import(/* @vite-ignore */ pathToFileURL(file).href) : await nativeImport(pathToFileURL(file).href)) as { program: Program };
  const files: Record<string, string> = {};
  for (const [f, body] of e.files) if (f !== "stdin") files[f] = body;
  const env = rt.createMemoryEnv({ files, stdin: e.files.get("stdin") ?? "" });
  const options: RunOptions = { env, baseDir: ".", summary: false, progress: false };
  for (let i = 0; i < e.args.length; i++) {
    const a = e.args[i]!;
    if (a === "--strict") options.strict = true;
    else if (a === "--late") options.lateFile = e.args[++i];
    else if (a === "--dead-letter") options.deadLetter = e.args[++i];
    else if (a === "--format") options.stdoutFormat = e.args[++i] as RunOptions["stdoutFormat"];
    else if (a === "--out") {
      const [name, path] = e.args[++i]!.split("=");
      (options.outOverrides ??= {})[name!] = path!;
    } else throw new Error(`docs/language.md:${e.line}: unsupported run flag ${a}`);
  }
  let code = 0;
  try {
    await rt.runProgram(mod.program, options);
  } catch (err) {
    const exitCode = (err as { exitCode?: number }).exitCode;
    if (typeof exitCode !== "number") throw err;
    code = exitCode;
  }
  stderr += env.stderrText();
  return { compiled: true, stderr, stdout: env.stdoutText(), code, env };
}

/** A line ending the block as the guide shows it: no trailing blank lines, one final newline. */
const norm = (s: string) => s.replace(/\s+$/, "") + (s.trim() === "" ? "" : "\n");

describe("docs/language.md", () => {
  it("marks every example with its expected result", () => {
    expect(problems).toEqual([]);
    expect(examples.length).toBeGreaterThanOrEqual(30);
    expect(tables.flat().length).toBeGreaterThanOrEqual(30);
    expect(sessions.length).toBeGreaterThanOrEqual(1);
  });

  examples.forEach((e, i) => {
    it.concurrent(`example at line ${e.line} (${e.name})`, async ({ expect }) => {
      const r = await runExample(e, i);
      if (UPDATE) {
        replaceBlock(e.blocks.get("output"), r.stdout);
        replaceBlock(e.blocks.get("stderr"), r.stderr);
        replaceBlock(e.blocks.get("error"), r.stderr);
        for (const f of e.written.keys()) replaceBlock(e.blocks.get(`output:${f}`), r.env?.output(f) ?? "<never written>");
        return;
      }
      if (e.error !== undefined) {
        expect(r.compiled, "this example should not compile").toBe(false);
        expect(r.stderr).toBe(norm(e.error));
        return;
      }
      expect(r.compiled, r.stderr).toBe(true);
      expect(r.code, r.stderr).toBe(e.exit);
      if (e.stdout !== undefined) expect(norm(r.stdout)).toBe(norm(e.stdout));
      if (e.stderr !== undefined) expect(norm(r.stderr)).toBe(norm(e.stderr));
      else expect(r.stderr, "unexpected warnings or bad records: show them in a stderr block").toBe("");
      for (const [f, body] of e.written) expect(norm(r.env!.output(f) ?? "<never written>"), f).toBe(norm(body));
    });
  });

  tables.forEach((rows, i) => {
    it.concurrent(`expression table ending at line ${rows.at(-1)?.line}`, async ({ expect }) => {
      const source = `source one: int = range(0, 1)\nemit one | select ${rows.map((r, j) => `v${j} = ${r.expr}`).join(", ")}\n`;
      const r = await runExample({ line: rows[0]!.line, name: "expressions.flow", source, args: [], exit: 0, files: new Map(), written: new Map(), blocks: new Map() }, 1000 + i);
      expect(r.stderr, source).toBe("");
      const row = JSON.parse(r.stdout) as Record<string, unknown>;
      const actual = rows.map((x, j) => `line ${x.line}: ${x.expr} → ${JSON.stringify(row[`v${j}`])}`);
      if (UPDATE) {
        const lines = text.split("\n");
        rows.forEach((x, j) => {
          const cells = lines[x.line - 1]!.split(/(?<!\\)\|/);
          cells[2] = ` \`${JSON.stringify(row[`v${j}`])}\` `;
          edits.push({ from: x.line - 1, to: x.line, lines: [cells.join("|")] });
        });
        return;
      }
      const expected = rows.map((x) => `line ${x.line}: ${x.expr} → ${JSON.stringify(JSON.parse(x.value || "null"))}`);
      expect(actual).toEqual(expected);
    });
  });

  // The run summary's timings, and those of `flowc test`'s lines (`pass FILE:LINE "name" (3 ms)`).
  const timing = (s: string) => s.replace(/\d+(\.\d+)? ms, [\d.]+[kM]? events\/s/g, "… ms, … events/s").replace(/ \(\d+ ms\)$/gm, " (… ms)");
  sessions.forEach((s, i) => {
    it.concurrent(`cli session at line ${s.line}`, async ({ expect }) => {
      ensureCli();
      const dir = materialize(`cli${i}`, s.files);
      const actual: string[] = [];
      let last = 0;
      const chunks = s.body.split(/^(?=\$ )/m);
      for (const chunk of chunks) {
        const nl = chunk.indexOf("\n");
        const cmd = chunk.slice(2, nl).trim();
        actual.push(`$ ${cmd}\n`);
        const argv = cmd.split(/\s+/);
        if (cmd === "echo $?") actual.push(`${last}\n`);
        else if (argv[0] === "cat") actual.push(readFileSync(join(dir, argv[1]!), "utf8"));
        else if (argv[0] === "flowc") {
          const res = await new Promise<{ code: number; out: string }>((done) => {
            execFile(process.execPath, [FLOWC, ...argv.slice(1)], { cwd: dir, env: { ...process.env, NO_COLOR: "1" }, encoding: "utf8", timeout: 60_000 }, (err, stdout, stderr) => {
              const code = err ? ((err as { code?: unknown }).code as number) : 0;
              done({ code: typeof code === "number" ? code : -1, out: norm(stdout) + stderr });
            });
          });
          last = res.code;
          actual.push(norm(res.out));
        } else throw new Error(`docs/language.md:${s.line}: unsupported command ${cmd}`);
      }
      if (UPDATE) edits.push({ from: s.line, to: s.line + s.body.split("\n").length - 1, lines: actual.join("").replace(/\n$/, "").split("\n") });
      else expect(timing(actual.join(""))).toBe(timing(s.body));
    });
  });
});
