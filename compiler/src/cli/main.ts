// The flowc command line: check, run, build, graph, playground. File system, esbuild and
// process handling live here, never in the compiler core.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, watch, writeFileSync, type FSWatcher } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compile, isInternalError, type CompileResult } from "../pipeline";
import { diagnosticsToJson, renderDiagnostics } from "../diagnostics/render";
import { closest } from "../diagnostics/suggest";
import { FLOWC_VERSION } from "../emit/emit";
import { printGraph } from "../ir/print";
import { toDot, toMermaid, toSvg } from "../ir/draw";
import { bundle } from "./bundle";
import { resolveExterns } from "./externs";

const EXIT_CODES =
  "Exit codes: 0 ok, 1 compile errors, 2 usage errors, 65 bad input (under --strict, or a CSV header missing a column), 66 input not found, 70 internal error, 73 output not writable, 130/143 stopped by SIGINT/SIGTERM (0 with --checkpoint: stopped at a checkpoint).";

const USAGE = `flowc ${FLOWC_VERSION} — the Flow stream-processing compiler

Usage:
  flowc check PROGRAM.flow [--format text|json] [--watch]
  flowc run PROGRAM.flow [--out NAME=PATH] [--dead-letter FILE] [--late FILE] [--strict] [--quiet] [--watch]
                        [--checkpoint DIR [--checkpoint-every D] [--checkpoint-reset]]
  flowc checkpoint inspect DIR [--format text|json]
  flowc build PROGRAM.flow -o OUT.mjs [--emit-ts DIR] [--sourcemap] [--minify]
  flowc graph PROGRAM.flow [--format svg|dot|mermaid|text] [-o FILE]
  flowc test PROGRAM.flow...
  flowc fmt PROGRAM.flow... [--check]
  flowc lsp
  flowc playground [--port N]
  flowc help COMMAND | flowc COMMAND --help
  flowc --help | --version

${EXIT_CODES}`;

/** A usage error: exit 2, one line (with a pointer to the command's --help when `hint`). */
class Usage extends Error {
  constructor(
    message: string,
    readonly hint = true,
  ) {
    super(message);
  }
}

interface CommandSpec {
  /** The synopsis line. */
  usage: string;
  /** What it does (one or two lines). */
  about: string;
  /** Flags with a value, then boolean flags, each with its description. */
  values: Record<string, string>;
  bools: Record<string, string>;
  /** Takes a PROGRAM.flow argument. */
  program: boolean;
  /** Takes any number of PROGRAM.flow arguments (`flowc test A.flow B.flow`). */
  many?: boolean;
  /** Takes this many other arguments (`checkpoint inspect DIR`). */
  positional?: number;
  notes?: string;
}

const COMMON_BOOLS = { "--no-color": "no colours in diagnostics", "--help": "this help" };

const COMMANDS: Record<string, CommandSpec> = Object.assign(Object.create(null) as Record<string, CommandSpec>, {
  check: {
    usage: "flowc check PROGRAM.flow [--format text|json] [--watch]",
    about: "Type-checks PROGRAM.flow and reports its diagnostics (exit 1 on any error).",
    values: { "--format": "text (default) or json" },
    bools: { "--watch": "check again whenever the program or a TypeScript file it imports changes", ...COMMON_BOOLS },
    program: true,
  },
  run: {
    usage: "flowc run PROGRAM.flow [--out NAME=PATH]... [--format F] [--dead-letter FILE] [--late FILE] [--sink-retry D] [--metrics HOST:PORT] [--strict] [--quiet] [--watch] [--checkpoint DIR [--checkpoint-every D] [--checkpoint-reset]]",
    about: "Compiles PROGRAM.flow and runs it. Outputs without a connector print JSONL on stdout; the run summary goes to stderr.",
    values: {
      "--out": "NAME=PATH: write output NAME to PATH instead of its connector (.csv → CSV, else JSONL); repeatable",
      "--format": "jsonl (default), changelog or debezium: how stdout outputs print (changelog/debezium: every upsert and delete of an updating stream)",
      "--metrics": "HOST:PORT: serve GET /metrics (Prometheus text format) and GET /healthz while the run lasts",
      "--dead-letter": "FILE: write each bad input record there as a JSON line",
      "--late": "FILE: write each late record there as its JSON record",
      "--sink-retry": "D: how long a network sink retries a failed delivery before the run stops with exit 73 (default 60s)",
      "--checkpoint": "DIR: make the run resumable — state, source positions and output lengths saved in DIR (relative to the working directory); a checkpoint there is restored first",
      "--checkpoint-every": "D: wall time between checkpoints (default 10s; e.g. 500ms, 30s, 5m)",
    },
    bools: {
      "--checkpoint-reset": "discard the checkpoint in DIR and start over (a new run id)",
      "--strict": "stop at the first bad input record (exit 65)",
      "--quiet": "no run summary or progress on stderr",
      "--watch": "stop and rerun whenever the program or a TypeScript file it imports changes",
      ...COMMON_BOOLS,
    },
    program: true,
    notes:
      "Relative paths resolve against the program's folder. Ctrl-C (SIGINT) or SIGTERM ends the input: windows fire, `emit final` is written, exit 130 / 143. " +
      "With --checkpoint it stops at a final checkpoint instead (open windows do not fire; exit 0) and the next run with the same DIR continues: outputs are truncated to their saved length, so killed and restarted runs write exactly the output of one run (docs/checkpoints.md).",
  },
  checkpoint: {
    usage: "flowc checkpoint inspect DIR [--format text|json]",
    about: "Prints what the checkpoint in DIR holds: when it was taken, sources and positions, watermarks, output lengths, counters, each operator's state size (entries and bytes).",
    values: { "--format": "text (default) or json" },
    bools: { ...COMMON_BOOLS },
    program: false,
    positional: 2,
  },
  build: {
    usage: "flowc build PROGRAM.flow -o OUT.mjs [--emit-ts DIR] [--sourcemap] [--minify]",
    about: "Writes a self-contained ES module: `node OUT.mjs` runs it, `import { run } from \"./OUT.mjs\"` embeds it.",
    values: { "-o": "OUT.mjs: the module to write (required)", "--emit-ts": "DIR: also write the generated TypeScript there" },
    bools: { "--sourcemap": "write OUT.mjs.map next to the module", "--minify": "minify the module", ...COMMON_BOOLS },
    program: true,
  },
  graph: {
    usage: "flowc graph PROGRAM.flow [--format svg|dot|mermaid|text] [-o FILE]",
    about: "Draws the optimized dataflow graph (on stdout, or to FILE).",
    values: { "--format": "svg (default), dot, mermaid or text", "-o": "FILE: write the drawing there" },
    bools: { ...COMMON_BOOLS },
    program: true,
  },
  test: {
    usage: "flowc test PROGRAM.flow...",
    about: "Runs the `test` blocks of each program in virtual time: one line per test, the first difference under a failed one, then `N passed, M failed` (exit 1 on a failure).",
    values: {},
    bools: { ...COMMON_BOOLS },
    program: true,
    many: true,
  },
  fmt: {
    usage: "flowc fmt PROGRAM.flow... [--check]",
    about: "Rewrites each program in the canonical layout (comments kept); a formatted file is left as it is.",
    values: {},
    bools: { "--check": "change nothing: list the files that are not formatted, exit 1 if there is one", ...COMMON_BOOLS },
    program: true,
    many: true,
  },
  lsp: {
    usage: "flowc lsp [--stdio]",
    about: "Runs the Flow language server on stdin/stdout (for editors: diagnostics, hover, completion, definitions, references, rename, symbols, formatting).",
    values: {},
    bools: { "--stdio": "talk over stdin/stdout (the default and only transport)", ...COMMON_BOOLS },
    program: false,
  },
  playground: {
    usage: "flowc playground [--port N]",
    about: "Serves the browser playground on 127.0.0.1.",
    values: { "--port": "N: the port (default 4173; 0 picks a free one)" },
    bools: { "--open": "", ...COMMON_BOOLS },
    program: false,
  },
});

function commandHelp(name: string): string {
  const c = COMMANDS[name]!;
  // A value flag's description starts with the value's name: `NAME=PATH: ...`.
  const valueRows = Object.entries(c.values).map(([f, d]): [string, string] => {
    const m = /^([A-Z][A-Za-z.=]*): (.*)$/.exec(d);
    return m ? [`${f} ${m[1]}`, m[2]!] : [f, d];
  });
  const rows = [...valueRows, ...Object.entries(c.bools)].filter(([, d]) => d !== "");
  const width = Math.max(...rows.map(([f]) => f.length));
  const flags = rows.map(([f, d]) => `  ${f.padEnd(width)}  ${d}`).join("\n");
  return `Usage: ${c.usage}\n\n${c.about}\n\nOptions:\n${flags}\n${c.notes ? `\n${c.notes}\n` : ""}\n${EXIT_CODES}`;
}

interface Args {
  command: string;
  file?: string;
  /** Every program argument (commands that take several). */
  files: string[];
  /** Every argument after the command. */
  rest?: string[];
  flags: Map<string, string[]>;
  bools: Set<string>;
}

/** ` (did you mean X?)` when a candidate is within a typo's reach of `word`, else "". */
function didYouMean(word: string, candidates: readonly string[]): string {
  const best = closest(word, candidates);
  return best === undefined ? "" : ` (did you mean ${best}?)`;
}

const ALL_VALUE_FLAGS = new Set(Object.values(COMMANDS).flatMap((c) => Object.keys(c.values)));

/** The command: the first argument that is neither a flag nor a flag's value. */
function commandOf(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (ALL_VALUE_FLAGS.has(a)) i++;
    else if (!a.startsWith("-") || a === "-") return a;
  }
  return "";
}

function parseArgs(argv: string[]): Args {
  const command = commandOf(argv);
  const spec = COMMANDS[command];
  const values = new Set(spec ? Object.keys(spec.values) : []);
  const bools = new Set([...(spec ? Object.keys(spec.bools) : []), "--help", "-h", "--version", "--no-color"]);
  const flags = new Map<string, string[]>();
  const seen = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let value: string | undefined;
    if (a.startsWith("--") && a.includes("=")) [a, value] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
    if (values.has(a)) {
      value ??= argv[++i];
      if (value === undefined) throw new Usage(`${a} needs a value`);
      flags.set(a, [...(flags.get(a) ?? []), value]);
    } else if (bools.has(a)) {
      if (value !== undefined) throw new Usage(`${a} takes no value`);
      seen.add(a);
    } else if (a.startsWith("-") && a !== "-") {
      const known = spec ? [...values, ...Object.keys(spec.bools)] : ["--help", "--version"];
      const elsewhere = Object.entries(COMMANDS).filter(([, c]) => a in c.values || a in c.bools).map(([n]) => n);
      const where = spec && elsewhere.length > 0 ? ` (${a} is a flag of ${elsewhere.map((n) => `flowc ${n}`).join(", ")})` : didYouMean(a, known);
      throw new Usage(`unknown option ${a}${spec ? ` for flowc ${command}` : ""}${where}`);
    } else positional.push(a);
  }
  const rest = positional.slice(1);
  if (command === "help") {
    if (rest.length > 1) throw new Usage(`help takes one command, got ${rest.join(" ")}`);
  } else if (spec) {
    const max = spec.positional ?? (spec.program ? (spec.many ? Infinity : 1) : 0);
    if (rest.length > max) throw new Usage(`unexpected argument ${JSON.stringify(rest[max])}: flowc ${command} takes ${max === 1 ? "one program" : max === 0 ? "no arguments" : `${max} arguments`}`);
  }
  return { command, file: rest[0], files: rest, rest, flags, bools: seen };
}

const useColor = (stream: NodeJS.WriteStream) => !!stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== "dumb";

function readProgram(file: string | undefined): { path: string; source: string } {
  if (!file) throw new Usage("which program? give a .flow file");
  const path = resolve(file);
  if (!existsSync(path)) throw new Usage(`no such file: ${file}`);
  if (statSync(path).isDirectory()) throw new Usage(`${file} is a directory; give a .flow file`);
  const bytes = readFileSync(path);
  return { path, source: bytes.toString("utf8") };
}

async function compileFile(file: string, source: string, checkOnly = false): Promise<CompileResult> {
  const externs = await resolveExterns(source, dirname(resolve(file)));
  return compile(source, { file: basename(file), externs: externs.signatures, checkOnly, diagnostics: externs.diagnostics });
}

function report(r: CompileResult, file: string, source: string): number | undefined {
  if (r.diagnostics.length) process.stderr.write(renderDiagnostics(r.diagnostics, file, source, { color: useColor(process.stderr) }) + "\n");
  if (isInternalError(r)) return 70;
  if (!r.ok) {
    const n = r.diagnostics.filter((d) => d.severity === "error").length;
    process.stderr.write(`flowc: ${n} error${n === 1 ? "" : "s"} in ${file}\n`);
    return 1;
  }
  return undefined;
}

async function cmdCheck(a: Args): Promise<number> {
  const { path, source } = readProgram(a.file);
  const format = a.flags.get("--format")?.at(-1) ?? "text";
  if (format !== "text" && format !== "json") throw new Usage(`unknown format ${format} (text or json)`);
  const r = await compileFile(path, source, true);
  if (format === "json") {
    process.stdout.write(JSON.stringify({ file: a.file, ok: r.ok, diagnostics: diagnosticsToJson(r.diagnostics, a.file!, source) }, null, 2) + "\n");
    return isInternalError(r) ? 70 : r.ok ? 0 : 1;
  }
  const code = report(r, a.file!, source);
  if (code !== undefined) return code;
  return 0;
}

async function buildModule(a: Args, main: boolean, minify = false, sourcemap = false) {
  const { path, source } = readProgram(a.file);
  const r = await compileFile(path, source);
  const code = report(r, a.file!, source);
  if (code !== undefined) return { exit: code };
  const bundled = await bundle(r.typescript!, { resolveDir: dirname(path), main, minify, sourcemap });
  return { exit: undefined, r, bundled, path, source };
}

/** Bounds of the run cache: the oldest modules (by last use) go first. */
const CACHE_MAX_FILES = 200;
const CACHE_MAX_BYTES = 64 << 20;

/**
 * The run cache folder, `$XDG_CACHE_HOME/flowc` or `~/.cache/flowc`, created 0700; undefined
 * (after a one-line warning) when it cannot be created or is not safe: a folder owned by someone
 * else or writable by group or others could hand `flowc run` code to execute.
 */
function runCacheDir(): string | undefined {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg !== undefined && isAbsolute(xdg) ? xdg : join(homedir(), ".cache");
  const dir = join(base, "flowc");
  const skip = (why: string): undefined => {
    process.stderr.write(`flowc: warning: not using the run cache ${dir}: ${why}\n`);
    return undefined;
  };
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {
    return undefined; // no writable home (a sandbox, CI): run uncached, quietly
  }
  try {
    const st = lstatSync(dir);
    if (!st.isDirectory()) return skip("it is not a folder");
    const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
    if (uid !== undefined && st.uid !== uid) return skip("it is owned by someone else");
    if ((st.mode & 0o022) !== 0) return skip(`it is writable by group or others (chmod 700 ${dir})`);
    return dir;
  } catch (e) {
    return skip((e as Error).message.split("\n")[0]!);
  }
}

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");

/** The cached module file when its content still has the hash stored beside it. */
function cachedModule(dir: string, key: string): string | undefined {
  const file = join(dir, `${key}.mjs`);
  let code: Buffer;
  let stored: string;
  try {
    code = readFileSync(file);
    stored = readFileSync(`${file}.sha256`, "utf8").trim();
  } catch {
    return undefined;
  }
  if (sha256(code) !== stored) {
    process.stderr.write(`flowc: warning: the cached module ${file} does not match its checksum; rebuilding it\n`);
    return undefined;
  }
  try {
    const now = new Date();
    utimesSync(file, now, now); // last use, for eviction
  } catch {
    /* gone meanwhile */
  }
  return file;
}

/** Keeps the cache within CACHE_MAX_FILES modules and CACHE_MAX_BYTES: drops the least recently used. */
function evictCache(dir: string, keep: string): void {
  try {
    const entries: { file: string; size: number; mtime: number }[] = [];
    for (const name of readdirSync(dir)) {
      if (!name.endsWith(".mjs")) continue;
      const file = join(dir, name);
      try {
        const st = statSync(file);
        entries.push({ file, size: st.size, mtime: st.mtimeMs });
      } catch {
        /* gone meanwhile */
      }
    }
    entries.sort((x, y) => x.mtime - y.mtime);
    let count = entries.length;
    let bytes = entries.reduce((n, e) => n + e.size, 0);
    for (const e of entries) {
      if (count <= CACHE_MAX_FILES && bytes <= CACHE_MAX_BYTES) break;
      if (e.file === keep) continue;
      rmSync(e.file, { force: true });
      rmSync(`${e.file}.sha256`, { force: true });
      count--;
      bytes -= e.size;
    }
  } catch {
    /* best effort */
  }
}

/**
 * The bundled module of a program, from a cache keyed by the generated code and this flowc build:
 * esbuild costs ~130 ms to load and start, more than compiling. Programs that import TypeScript
 * files are not cached (their files may change without the generated code changing). A cached
 * module is imported only after its content matched the sha256 stored with it.
 */
async function runnableModule(a: Args): Promise<{ exit: number } | { file: string; path: string; cleanup?: string }> {
  const { path, source } = readProgram(a.file);
  const r = await compileFile(path, source);
  const code = report(r, a.file!, source);
  if (code !== undefined) return { exit: code };
  const cacheDir = (r.typed?.imports.length ?? 0) === 0 ? runCacheDir() : undefined;
  const key = sha256(`${FLOWC_VERSION}\0${builtAt()}\0${r.typescript}`).slice(0, 32);
  if (cacheDir !== undefined) {
    const hit = cachedModule(cacheDir, key);
    if (hit !== undefined) return { file: hit, path };
  }
  const bundled = await bundle(r.typescript!, { resolveDir: dirname(path), main: false });
  if (cacheDir !== undefined) {
    const cached = join(cacheDir, `${key}.mjs`);
    try {
      // Each file to a temporary name then renamed: a concurrent run never reads half a file.
      const tmp = `${cached}.${process.pid}.tmp`;
      writeFileSync(`${tmp}.sha256`, sha256(bundled.code) + "\n", { mode: 0o600 });
      writeFileSync(tmp, bundled.code, { mode: 0o600 });
      renameSync(`${tmp}.sha256`, `${cached}.sha256`);
      renameSync(tmp, cached);
      evictCache(cacheDir, cached);
      const verified = cachedModule(cacheDir, key);
      if (verified !== undefined) return { file: verified, path };
    } catch {
      // an unwritable cache: run from a private folder below
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "flowc-run-"));
  const file = join(dir, "program.mjs");
  writeFileSync(file, bundled.code);
  return { file, path, cleanup: dir };
}

/** When this CLI bundle was built (its runtime sources are bundled into programs). */
function builtAt(): string {
  try {
    return String(statSync(fileURLToPath(import.meta.url)).mtimeMs);
  } catch {
    return "unknown";
  }
}

async function cmdRun(a: Args, stop?: AbortSignal): Promise<number> {
  const outs = a.flags.get("--out") ?? [];
  for (const o of outs) {
    const at = o.indexOf("=");
    if (at <= 0 || at === o.length - 1) throw new Usage(`--out expects NAME=PATH, got "${o}"`);
  }
  const m = await runnableModule(a);
  if ("exit" in m) return m.exit;
  try {
    const mod = (await import(pathToFileURL(m.file).href)) as { program: import("../../../runtime/src/contract").Program };
    const { runMain } = await import("../../../runtime/src/node");
    const argv: string[] = [];
    for (const o of outs) argv.push("--out", o);
    for (const f of ["--format", "--dead-letter", "--late", "--sink-retry", "--metrics", "--checkpoint", "--checkpoint-every"]) for (const v of a.flags.get(f) ?? []) argv.push(f, v);
    if (a.bools.has("--checkpoint-reset")) argv.push("--checkpoint-reset");
    if (a.bools.has("--strict")) argv.push("--strict");
    if (a.bools.has("--quiet")) argv.push("--quiet");
    const { code } = await runMain(mod.program, {
      argv,
      baseDir: dirname(m.path),
      command: "flowc run",
      run: { protectedPaths: [{ path: m.path, what: `the program ${a.file}` }] },
      ...(stop && { stop }),
    });
    return code;
  } finally {
    if (m.cleanup) rmSync(m.cleanup, { recursive: true, force: true });
  }
}

/** `flowc checkpoint inspect DIR`: what the checkpoint in DIR holds (LANGUAGE.md §12). */
async function cmdCheckpoint(a: Args): Promise<number> {
  const [sub, dir] = a.rest ?? [];
  if (sub !== "inspect") throw new Usage(sub === undefined ? "checkpoint needs a subcommand: inspect DIR" : `unknown checkpoint subcommand ${sub} (inspect DIR)`);
  if (dir === undefined) throw new Usage("checkpoint inspect needs a DIR");
  const format = a.flags.get("--format")?.at(-1) ?? "text";
  if (format !== "text" && format !== "json") throw new Usage(`unknown format ${format} (text or json)`);
  const { fileCheckpointStorage } = await import("../../../runtime/src/checkpoint/node-storage");
  const { parseCheckpointBytes, CheckpointError } = await import("../../../runtime/src/checkpoint/run");
  const { describeCheckpoint, describeCheckpointJson } = await import("../../../runtime/src/checkpoint/inspect");
  const bytes = await fileCheckpointStorage(dir).readBytes!();
  if (bytes === undefined) {
    process.stderr.write(`flowc: no checkpoint in ${dir}\n`);
    return 2;
  }
  try {
    const doc = parseCheckpointBytes(bytes, dir);
    process.stdout.write((format === "json" ? JSON.stringify(describeCheckpointJson(doc, dir), null, 2) : describeCheckpoint(doc, dir)) + "\n");
    return 0;
  } catch (e) {
    if (!(e instanceof CheckpointError)) throw e;
    process.stderr.write(`flowc: ${e.message}\n`);
    return 2;
  }
}

async function cmdBuild(a: Args): Promise<number> {
  const out = a.flags.get("-o")?.at(-1);
  if (!out) throw new Usage("build needs -o OUT.mjs");
  const b = await buildModule(a, true, a.bools.has("--minify"), a.bools.has("--sourcemap"));
  if (b.exit !== undefined) return b.exit;
  const outPath = resolve(out);
  mkdirSync(dirname(outPath), { recursive: true });
  let code = b.bundled!.code;
  if (b.bundled!.map) {
    writeFileSync(outPath + ".map", b.bundled!.map);
    code += `\n//# sourceMappingURL=${basename(outPath)}.map\n`;
  }
  writeFileSync(outPath, code);
  const emitTs = a.flags.get("--emit-ts")?.at(-1);
  if (emitTs) {
    mkdirSync(resolve(emitTs), { recursive: true });
    writeFileSync(join(resolve(emitTs), basename(a.file!).replace(/\.flow$/, "") + ".ts"), b.r!.typescript!);
  }
  process.stderr.write(`flowc: wrote ${out} (${(code.length / 1024).toFixed(1)} KiB)\n`);
  return 0;
}

async function cmdGraph(a: Args): Promise<number> {
  const { path, source } = readProgram(a.file);
  const format = a.flags.get("--format")?.at(-1) ?? "svg";
  const r = await compileFile(path, source);
  const code = report(r, a.file!, source);
  if (code !== undefined) return code;
  const g = r.optimized!;
  const text = format === "dot" ? toDot(g) : format === "mermaid" ? toMermaid(g) : format === "text" ? printGraph(g) : format === "svg" ? toSvg(g) : undefined;
  if (text === undefined) throw new Usage(`unknown format ${format} (svg, dot, mermaid or text)`);
  const out = a.flags.get("-o")?.at(-1);
  if (out) writeFileSync(out, text);
  else process.stdout.write(text);
  return 0;
}

async function cmdTest(a: Args): Promise<number> {
  if (a.files.length === 0) throw new Usage("which programs? give one or more .flow files");
  for (const f of a.files) readProgram(f); // a missing file is a usage error, before any test runs
  const { runTestFiles } = await import("./test");
  return await runTestFiles(a.files, { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), color: useColor(process.stdout) });
}

async function cmdFmt(a: Args): Promise<number> {
  if (a.files.length === 0) throw new Usage("which programs? give one or more .flow files");
  const { format } = await import("../format/format");
  const check = a.bools.has("--check");
  let exit = 0;
  for (const f of a.files) {
    const { path, source } = readProgram(f);
    const r = format(source);
    if (!r.ok) {
      process.stderr.write(renderDiagnostics(r.diagnostics, f, source, { color: useColor(process.stderr) }) + "\n");
      process.stderr.write(`flowc: ${f} has syntax errors; not formatted\n`);
      exit = 1;
      continue;
    }
    if (r.text === source) continue;
    if (check) {
      process.stdout.write(`${f}\n`);
      exit = 1;
    } else {
      writeFileSync(path, r.text);
      process.stderr.write(`flowc: formatted ${f}\n`);
    }
  }
  if (check && exit === 1) process.stderr.write("flowc: the files above are not formatted (run flowc fmt on them)\n");
  return exit;
}

async function cmdLsp(): Promise<number> {
  const { startLanguageServer } = await import("./lsp");
  return await startLanguageServer();
}

async function cmdPlayground(a: Args): Promise<number> {
  const raw = a.flags.get("--port")?.at(-1) ?? "4173";
  const port = Number(raw);
  if (!/^\d+$/.test(raw) || port > 65535) throw new Usage(`invalid port ${raw} (0 to 65535)`);
  const { servePlayground } = await import("./serve");
  try {
    await servePlayground(port);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EADDRINUSE") throw new Usage(`port ${port} is in use; try --port N (0 picks a free one)`, false);
    if (code === "EACCES") throw new Usage(`port ${port} needs privileges; try --port N above 1023`, false);
    throw e;
  }
  return await new Promise<number>(() => {});
}

/** The TypeScript files a program imports (`import { f } from "./x.ts"`), resolved. */
function importedFiles(path: string): string[] {
  let source: string;
  try {
    source = readFileSync(path, "utf8");
  } catch {
    return [];
  }
  return [...source.matchAll(/^[ \t]*import\s*\{[^}]*\}\s*from\s*"([^"]+)"/gm)].map((m) => resolve(dirname(path), m[1]!));
}

/**
 * `--watch`: runs `once` now and again whenever the program or a file it imports changes
 * (debounced); a change during a run stops that run first. Ends on SIGINT / SIGTERM.
 */
async function watchLoop(a: Args, once: (stop: AbortSignal) => Promise<number>): Promise<number> {
  const program = resolve(readProgram(a.file).path);
  let watchers: FSWatcher[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wake: (() => void) | undefined;
  let changed = false;
  let quit: number | undefined;
  let current: AbortController | undefined;
  const rewatch = () => {
    for (const w of watchers) w.close();
    watchers = [];
    const files = [program, ...importedFiles(program)];
    const names = new Map<string, Set<string>>();
    for (const f of files) {
      const set = names.get(dirname(f)) ?? new Set<string>();
      set.add(basename(f));
      names.set(dirname(f), set);
    }
    // Folders, not files: an editor that saves by renaming a new file over the old one would
    // leave a file watcher on the old one.
    for (const [dir, set] of names) {
      try {
        watchers.push(
          watch(dir, (_event, name) => {
            if (name !== null && !set.has(String(name))) return;
            clearTimeout(timer);
            timer = setTimeout(() => {
              changed = true;
              current?.abort();
              wake?.();
            }, 150);
          }),
        );
      } catch {
        /* a folder that went away */
      }
    }
  };
  const onSignal = (sig: NodeJS.Signals) => {
    if (quit !== undefined) process.exit(sig === "SIGTERM" ? 143 : 130);
    quit = sig === "SIGTERM" ? 143 : 130;
    current?.abort();
    wake?.();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    for (;;) {
      changed = false;
      rewatch();
      current = new AbortController();
      try {
        await once(current.signal);
      } catch (e) {
        if (!(e instanceof Usage)) throw e;
        process.stderr.write(`flowc: ${e.message}\n`);
      }
      if (quit !== undefined) return quit;
      if (!changed) {
        process.stderr.write(`flowc: watching ${a.file} for changes (Ctrl-C to stop)\n`);
        await new Promise<void>((res) => (wake = res));
        wake = undefined;
      }
      if (quit !== undefined) return quit;
      process.stderr.write("flowc: change detected, rerunning\n");
    }
  } finally {
    clearTimeout(timer);
    for (const w of watchers) w.close();
    // A run stopped by a change may have left a read of stdin pending: it would keep the
    // process alive.
    process.stdin.destroy();
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

export async function main(argv: string[]): Promise<number> {
  let args: Args | undefined;
  try {
    args = parseArgs(argv);
    if (args.bools.has("--no-color")) process.env.NO_COLOR = "1";
    if (args.bools.has("--version")) {
      process.stdout.write(`flowc ${FLOWC_VERSION}\n`);
      return 0;
    }
    const helpOf = args.command === "help" ? args.file : args.bools.has("--help") || args.bools.has("-h") ? args.command : undefined;
    if (args.command === "help" || helpOf !== undefined) {
      if (helpOf === undefined || helpOf === "") process.stdout.write(USAGE + "\n");
      else if (COMMANDS[helpOf]) process.stdout.write(commandHelp(helpOf) + "\n");
      else throw new Usage(`unknown command ${helpOf}${didYouMean(helpOf, Object.keys(COMMANDS))}`);
      return 0;
    }
    const watching = args.bools.has("--watch");
    const a = args;
    switch (args.command) {
      case "check":
        return watching ? await watchLoop(a, () => cmdCheck(a)) : await cmdCheck(a);
      case "run":
        return watching ? await watchLoop(a, (stop) => cmdRun(a, stop)) : await cmdRun(a);
      case "build":
        return await cmdBuild(args);
      case "graph":
        return await cmdGraph(args);
      case "playground":
        return await cmdPlayground(args);
      case "test":
        return await cmdTest(args);
      case "fmt":
        return await cmdFmt(args);
      case "lsp":
        return await cmdLsp();
      case "checkpoint":
        return await cmdCheckpoint(args);

      case "":
        throw new Usage("no command given (check, run, build, graph, test, fmt, lsp, checkpoint or playground)");
      default:
        throw new Usage(`unknown command ${args.command}${didYouMean(args.command, Object.keys(COMMANDS))}`);
    }
  } catch (e) {
    if (e instanceof Usage) {
      const command = args?.command ?? commandOf(argv);
      const cmd = COMMANDS[command] ? `flowc ${command} --help` : "flowc --help";
      process.stderr.write(`flowc: ${e.message}${e.hint ? ` (see ${cmd})` : ""}\n`);
      return 2;
    }
    process.stderr.write(`flowc: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\nPlease report this with the program that caused it.\n`);
    return 70;
  }
}
