// Shared helpers for the test suite: paths, the CLI (rebuilt at most once, under a lock, so that
// parallel test files do not race on dist/), and the lists of fixture and conformance programs.
import { execFile, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type * as Runtime from "../runtime/src/index";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const FLOWC = join(ROOT, "bin", "flowc");
export const FIXTURES = join(ROOT, "test", "fixtures");
export const TMP = join(ROOT, "test", ".tmp");
export const SHARED = resolve(ROOT, "..", "shared");
export const CONFORMANCE_DIRS = [join(SHARED, "conformance"), join(SHARED, "peer-ksql")];

/**
 * Rebuilds dist/ when stale, once per run: the global setup (test/global-setup.ts) builds before
 * any test file starts and tells the test processes so through FLOWC_TEST_BUILT; without it (a test
 * file run some other way) once per process, serialized across processes by a lock folder.
 */
let built = process.env.FLOWC_TEST_BUILT === "1";
export function ensureCli(): void {
  if (built) return;
  mkdirSync(TMP, { recursive: true });
  const lock = join(TMP, "build.lock");
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A lock older than two minutes is left over from a killed run.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      } catch {
        /* gone meanwhile */
      }
      if (Date.now() > deadline) throw new Error("timed out waiting for the build lock " + lock);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    const r = spawnSync(process.execPath, [join(ROOT, "scripts", "build.mjs"), "--if-stale"], { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}\n${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  built = true;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `bin/flowc ARGS` (asynchronously, so tests can run several at once). */
export function flowc(args: string[], opts: { cwd?: string; env?: Record<string, string | undefined>; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  ensureCli();
  return new Promise((resolvePromise) => {
    const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: "1", FORCE_COLOR: undefined, ...opts.env };
    for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
    const child = execFile(process.execPath, [FLOWC, ...args], { cwd: opts.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, maxBuffer: 64 * 1024 * 1024, timeout: opts.timeoutMs ?? 60_000, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : err ? -1 : 0;
      resolvePromise({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    else child.stdin!.end();
  });
}

/** Runs a plain node script (e.g. a built module). */
export function node(args: string[], opts: { cwd?: string; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolvePromise) => {
    const child = execFile(process.execPath, args, { cwd: opts.cwd ?? ROOT, env: { ...process.env, NO_COLOR: "1" }, maxBuffer: 64 * 1024 * 1024, timeout: 60_000, encoding: "utf8" }, (err, stdout, stderr) => {
      const code = err && typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : err ? -1 : 0;
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin!.end(opts.input ?? "");
  });
}

export interface FixtureCase {
  name: string;
  dir: string;
  source: string;
  /** `e_`: must have errors; `w_`: compiles with warnings; anything else: compiles with no diagnostics. */
  kind: "error" | "warning" | "valid";
}

export function fixtureCases(): FixtureCase[] {
  if (!existsSync(FIXTURES)) return [];
  return readdirSync(FIXTURES)
    .filter((n) => existsSync(join(FIXTURES, n, "input.flow")))
    .sort()
    .map((name) => {
      const dir = join(FIXTURES, name);
      return { name, dir, source: readFileSync(join(dir, "input.flow"), "utf8"), kind: name.startsWith("e_") ? "error" : name.startsWith("w_") ? "warning" : "valid" };
    });
}

export interface ConformanceCase {
  name: string;
  dir: string;
  source: string;
}

/** Every conformance and peer-ksql program (whether or not it is expected to compile). */
export function conformanceCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  for (const root of CONFORMANCE_DIRS) {
    if (!existsSync(root)) continue;
    for (const n of readdirSync(root).sort()) {
      const p = join(root, n, "program.flow");
      if (existsSync(p)) out.push({ name: `${root.split("/").pop()}/${n}`, dir: join(root, n), source: readFileSync(p, "utf8") });
    }
  }
  return out;
}

/** A fresh folder under test/.tmp (the caller removes it). */
export function testDir(prefix: string): string {
  mkdirSync(TMP, { recursive: true });
  return mkdtempSync(join(TMP, prefix));
}

// Node's own loader, not vitest's (which would transform every imported module again): require of
// an ES module (Node ≥ 20.19), or for a module with top-level await an import() vitest does not
// rewrite; older Nodes go through vitest.
const nodeRequire = createRequire(import.meta.url);
let nodeImporter: ((url: string) => Promise<unknown>) | undefined;
function nodeImport(url: string): Promise<unknown> {
  if (!nodeImporter) {
    // A module loaded by Node itself: its import() is Node's.
    mkdirSync(TMP, { recursive: true });
    const file = join(TMP, "native-import.mjs");
    writeFileSync(file, "export const load = (url) => import(url);\n");
    nodeImporter = (nodeRequire(file) as { load: (url: string) => Promise<unknown> }).load;
  }
  return nodeImporter(url);
}
export async function nativeImport(url: string): Promise<unknown> {
  try {
    return nodeRequire(fileURLToPath(url));
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ERR_REQUIRE_ASYNC_MODULE") return nodeImport(url);
    if (code === "ERR_REQUIRE_ESM") return import(/* @vite-ignore */ url);
    throw e;
  }
}

/**
 * The runtime, its operators and the stdlib bundled once per test process into one module (as the
 * playground and the Node entry do: the NEXMark generator registered), for generated code compiled
 * with `runtime: url, ops: url, stdlib: url` to import; `rt` is that module, loaded by Node. The
 * caller removes its folder with removeSharedRuntime() (in afterAll).
 */
let runtime: Promise<{ url: string; rt: typeof Runtime }> | undefined;
let runtimeDir: string | undefined;
export function sharedRuntime(): Promise<{ url: string; rt: typeof Runtime }> {
  return (runtime ??= (async () => {
    const esbuild = await import("esbuild");
    const file = join((runtimeDir = testDir("runtime-")), "runtime.mjs");
    const entry =
      ["runtime/src/index.ts", "runtime/src/ops/index.ts", "stdlib/src/index.ts"].map((f) => `export * from ${JSON.stringify(join(ROOT, f))};`).join("\n") +
      `\nimport { registerNexmark as __register } from ${JSON.stringify(join(ROOT, "runtime/src/index.ts"))};\nimport { nexmarkGenerator as __generator } from ${JSON.stringify(join(ROOT, "stdlib/src/nexmark.ts"))};\n__register(__generator);`;
    await esbuild.build({ stdin: { contents: entry, loader: "ts", resolveDir: ROOT }, bundle: true, format: "esm", platform: "node", target: "es2022", outfile: file, logLevel: "silent" });
    const url = pathToFileURL(file).href;
    return { url, rt: (await nativeImport(url)) as typeof Runtime };
  })());
}
export function removeSharedRuntime(): void {
  if (runtimeDir) rmSync(runtimeDir, { recursive: true, force: true });
}

/** Reads a file, or undefined when it does not exist. */
export function readIf(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}

/** `node ARGS` in the background (stdin open, NO_COLOR): its output so far, its exit, and `until` to wait for output. */
export function startNode(args: string[], cwd: string) {
  const child = spawn(process.execPath, args, { cwd, stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
  const out = { stdout: "", stderr: "" };
  child.stdout.on("data", (d) => (out.stdout += d));
  child.stderr.on("data", (d) => (out.stderr += d));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on("exit", (code, signal) => res({ code, signal })));
  const until = async (pred: () => boolean, ms = 30_000) => {
    const t0 = Date.now();
    while (!pred()) {
      if (Date.now() - t0 > ms) throw new Error(`timed out; stdout: ${out.stdout}\nstderr: ${out.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  return { child, out, exit, until };
}

/** Every `.flow` program under examples/, in folders at any depth (examples/live/… included). */
export function examplePrograms(dir = join(ROOT, "examples"), rel = ""): { dir: string; file: string; name: string }[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? examplePrograms(join(dir, d.name), `${rel}${d.name}/`) : d.name.endsWith(".flow") && rel !== "" ? [{ dir, file: d.name, name: `${rel}${d.name}` }] : [],
  );
}

/**
 * `flowc build` of the program `input.flow` in `dir` (a copy of fixture `name`), then the built
 * module run with node in that folder: it prints what `flowc run` prints (the fixture's output).
 */
export async function expectBuiltModuleLikeRun(dir: string, name: string, expect: (v: unknown, m?: string) => { toBe(x: unknown): void; toMatch(r: RegExp): void }): Promise<void> {
  const out = join(dir, "dist", "prog.mjs");
  const b = await flowc(["build", "input.flow", "-o", out], { cwd: dir });
  expect(b.code, b.stderr).toBe(0);
  expect(b.stdout).toBe("");
  expect(b.stderr).toMatch(/flowc: wrote .*prog\.mjs/);
  // Relative input paths resolve against the current folder for a built module.
  const r = await node([out], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(readFileSync(join(FIXTURES, name, "output.jsonl"), "utf8"));
  expect(r.stderr).toMatch(/in \(/); // the run summary, on stderr
}
