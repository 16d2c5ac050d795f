// Shared helpers for the test suite: paths, the CLI (rebuilt at most once, under a lock, so that
// parallel test files do not race on dist/), and the lists of fixture and conformance programs.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const FLOWC = join(ROOT, "bin", "flowc");
export const FIXTURES = join(ROOT, "test", "fixtures");
export const TMP = join(ROOT, "test", ".tmp");
export const SHARED = resolve(ROOT, "..", "shared");
export const CONFORMANCE_DIRS = [join(SHARED, "conformance"), join(SHARED, "peer-ksql")];

/** Rebuilds dist/ when stale, once per process, serialized across processes by a lock folder. */
let built = false;
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

/** Reads a file, or undefined when it does not exist. */
export function readIf(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, "utf8") : undefined;
}
