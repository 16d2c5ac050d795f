// The flowc command line: check, run, build, graph, playground. File system, esbuild and
// process handling live here, never in the compiler core.
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compile, isInternalError, type CompileResult } from "../pipeline";
import { diagnosticsToJson, renderDiagnostics } from "../diagnostics/render";
import { FLOWC_VERSION } from "../emit/emit";
import { printGraph } from "../ir/print";
import { toDot, toMermaid, toSvg } from "../ir/draw";
import { bundle } from "./bundle";
import { resolveExterns } from "./externs";

const USAGE = `flowc ${FLOWC_VERSION} — the Flow stream-processing compiler

Usage:
  flowc check PROGRAM.flow [--format text|json]
  flowc run PROGRAM.flow [--out NAME=PATH] [--dead-letter FILE] [--late FILE] [--strict] [--quiet]
  flowc build PROGRAM.flow -o OUT.mjs [--emit-ts DIR] [--sourcemap] [--minify]
  flowc graph PROGRAM.flow [--format svg|dot|mermaid|text] [-o FILE]
  flowc playground [--port N]
  flowc --help | --version

Exit codes: 0 ok, 1 compile errors, 2 usage errors, 65 bad input under --strict, 70 internal error.`;

class Usage extends Error {}

interface Args {
  command: string;
  file?: string;
  flags: Map<string, string[]>;
  bools: Set<string>;
}

const VALUE_FLAGS = new Set(["--format", "--out", "--dead-letter", "--late", "-o", "--emit-ts", "--port"]);
const BOOL_FLAGS = new Set(["--strict", "--quiet", "--sourcemap", "--minify", "--help", "-h", "--version", "--no-color", "--open"]);

function parseArgs(argv: string[]): Args {
  const flags = new Map<string, string[]>();
  const bools = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let value: string | undefined;
    if (a.startsWith("--") && a.includes("=")) [a, value] = [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)];
    if (VALUE_FLAGS.has(a)) {
      value ??= argv[++i];
      if (value === undefined) throw new Usage(`${a} needs a value`);
      flags.set(a, [...(flags.get(a) ?? []), value]);
    } else if (BOOL_FLAGS.has(a)) bools.add(a);
    else if (a.startsWith("-") && a !== "-") throw new Usage(`unknown option ${a}`);
    else positional.push(a);
  }
  return { command: positional[0] ?? "", file: positional[1], flags, bools };
}

const useColor = (stream: NodeJS.WriteStream) => !!stream.isTTY && !process.env.NO_COLOR && process.env.TERM !== "dumb";

function readProgram(file: string | undefined): { path: string; source: string } {
  if (!file) throw new Usage("which program? give a .flow file");
  const path = resolve(file);
  if (!existsSync(path)) throw new Usage(`no such file: ${file}`);
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

/**
 * The bundled module of a program, from a cache keyed by the generated code and this flowc build:
 * esbuild costs ~130 ms to load and start, more than compiling. Programs that import TypeScript
 * files are not cached (their files may change without the generated code changing).
 */
async function runnableModule(a: Args): Promise<{ exit: number } | { file: string; path: string; cleanup?: string }> {
  const { path, source } = readProgram(a.file);
  const r = await compileFile(path, source);
  const code = report(r, a.file!, source);
  if (code !== undefined) return { exit: code };
  const cacheable = (r.typed?.imports.length ?? 0) === 0;
  const cacheDir = join(tmpdir(), `flowc-cache-${typeof process.getuid === "function" ? process.getuid() : "user"}`);
  const key = createHash("sha256").update(`${FLOWC_VERSION}\0${builtAt()}\0${r.typescript}`).digest("hex").slice(0, 32);
  const cached = join(cacheDir, `${key}.mjs`);
  if (cacheable && existsSync(cached)) return { file: cached, path };
  const bundled = await bundle(r.typescript!, { resolveDir: dirname(path), main: false });
  if (cacheable) {
    mkdirSync(cacheDir, { recursive: true });
    const tmp = `${cached}.${process.pid}.tmp`;
    writeFileSync(tmp, bundled.code);
    renameSync(tmp, cached); // atomic: a concurrent run never reads half a file
    return { file: cached, path };
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

async function cmdRun(a: Args): Promise<number> {
  const m = await runnableModule(a);
  if ("exit" in m) return m.exit;
  try {
    const mod = (await import(pathToFileURL(m.file).href)) as { program: import("../../../runtime/src/contract").Program };
    const { runMain } = await import("../../../runtime/src/node");
    const argv: string[] = [];
    for (const o of a.flags.get("--out") ?? []) argv.push("--out", o);
    for (const f of ["--dead-letter", "--late"]) for (const v of a.flags.get(f) ?? []) argv.push(f, v);
    if (a.bools.has("--strict")) argv.push("--strict");
    if (a.bools.has("--quiet")) argv.push("--quiet");
    const { code } = await runMain(mod.program, { argv, baseDir: dirname(m.path) });
    return code;
  } finally {
    if (m.cleanup) rmSync(m.cleanup, { recursive: true, force: true });
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

async function cmdPlayground(a: Args): Promise<number> {
  const port = Number(a.flags.get("--port")?.at(-1) ?? 4173);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Usage(`invalid port ${a.flags.get("--port")}`);
  const { servePlayground } = await import("./serve");
  await servePlayground(port);
  return await new Promise<number>(() => {});
}

export async function main(argv: string[]): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
    if (args.bools.has("--no-color")) process.env.NO_COLOR = "1";
    if (args.bools.has("--version")) {
      process.stdout.write(`flowc ${FLOWC_VERSION}\n`);
      return 0;
    }
    if (args.bools.has("--help") || args.bools.has("-h") || args.command === "help") {
      process.stdout.write(USAGE + "\n");
      return 0;
    }
    switch (args.command) {
      case "check":
        return await cmdCheck(args);
      case "run":
        return await cmdRun(args);
      case "build":
        return await cmdBuild(args);
      case "graph":
        return await cmdGraph(args);
      case "playground":
        return await cmdPlayground(args);
      case "":
        throw new Usage("no command given");
      default:
        throw new Usage(`unknown command ${args.command}`);
    }
  } catch (e) {
    if (e instanceof Usage) {
      process.stderr.write(`flowc: ${e.message}\n\n${USAGE}\n`);
      return 2;
    }
    process.stderr.write(`flowc: internal error: ${e instanceof Error ? e.stack ?? e.message : String(e)}\nPlease report this with the program that caused it.\n`);
    return 70;
  }
}
