// The Node.js side of the runtime: the `Env` over fs and stdio, and `runMain`, the entry point
// of a built program (`node OUT.mjs [--out NAME=PATH] ...`). Only this file imports node: modules;
// loading it registers the Node environment as runProgram's default (setDefaultEnv) and the
// stdlib's NEXMark generator (registerNexmark): the one runtime file that imports the stdlib.
//
// node: modules are loaded with dynamic imports only: a bundle that includes this file (a built
// program's `node OUT.mjs` entry) must still load in a browser, where a static `import ... from
// "node:fs"` would fail before any code runs.

import type { Writable } from "node:stream";
import { nexmarkGenerator } from "../../stdlib/src/nexmark.js";
import type { Program } from "./contract.js";
import { registerNexmark, RunError, runProgram, setDefaultEnv, StrictInputError, UsageError, type RunOptions, type RunSummary } from "./driver.js";
import type { ByteSource, Env, OutputSink } from "./env.js";
import { registerNetwork } from "./run/network.js";
import type { MetricsProbe } from "./run/options.js";
import { fileCheckpointStorage } from "./checkpoint/node-storage.js";

export { fileCheckpointStorage };

const importNodeModules = async () => {
  const [fs, path, events, net] = await Promise.all([import("node:fs"), import("node:path"), import("node:events"), import("node:net")]);
  return { fs, path, events, net };
};
type NodeModules = Awaited<ReturnType<typeof importNodeModules>>;
let nodeModules: NodeModules | undefined;

/** Loads the node: modules this file uses (once). */
export async function loadNodeModules(): Promise<NodeModules> {
  const loaded = nodeModules ?? (await importNodeModules());
  nodeModules = loaded;
  return loaded;
}

function mods(): NodeModules {
  if (!nodeModules) throw new Error("internal: node modules are not loaded (await loadNodeModules() first)");
  return nodeModules;
}

/** Read files in 1 MiB chunks: fewer, larger batches. */
const READ_CHUNK = 1 << 20;

/** An OutputSink over a Node writable stream, honouring its backpressure. */
function streamSink(stream: Writable, closeOnEnd: boolean): OutputSink {
  let error: Error | undefined;
  let broken = false;
  stream.on("error", (e: NodeJS.ErrnoException) => {
    // The reader of stdout went away (`| head`): stop writing, let the run wind down quietly.
    if (e.code === "EPIPE") broken = true;
    else error ??= e;
  });
  const check = () => {
    if (error) throw error;
  };
  /** Resolves on `event`, or when the stream errs or closes (the error is then in `error`). */
  const until = (event: string) =>
    new Promise<void>((resolve) => {
      const done = () => {
        stream.off(event, done);
        stream.off("error", done);
        stream.off("close", done);
        resolve();
      };
      stream.on(event, done);
      stream.on("error", done);
      stream.on("close", done);
    });
  return {
    get broken() {
      return broken;
    },
    write(text) {
      check();
      if (broken) return true;
      return stream.write(text);
    },
    async drain() {
      check();
      if (broken || !stream.writableNeedDrain) return;
      await until("drain");
      check();
    },
    async settled() {
      check();
      if (broken) return;
      await new Promise<void>((res) => stream.write("", () => res()));
      check();
    },
    async close() {
      check();
      if (broken) return;
      if (closeOnEnd) {
        const finished = until("finish");
        stream.end();
        await finished;
      } else {
        // stdout: wait until what was written has been handed to the OS.
        await new Promise<void>((res) => stream.write("", () => res()));
      }
      check();
    },
  };
}

let stdoutSink: OutputSink | undefined;

/**
 * A regular file's bytes in READ_CHUNK pieces, read into two reused buffers in turn — a fresh
 * buffer per read costs more than the read (page faults) — with the next read under way while
 * the current chunk is processed. A chunk is valid until the next one is asked for; the readers
 * copy what they keep (see ByteSource). Closes the file at the end.
 */
async function* fileChunks(fh: import("node:fs/promises").FileHandle, start: number | null = null): AsyncGenerator<Uint8Array> {
  const bufs = [Buffer.allocUnsafe(READ_CHUNK), Buffer.allocUnsafe(READ_CHUNK)];
  let which = 0;
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    // From `start` (a checkpoint's offset) on, counting the position (a read at a given
    // position does not move the file's own); else from the file's own position.
    let at = start;
    pending = fh.read(bufs[0]!, 0, READ_CHUNK, at);
    for (;;) {
      const { bytesRead } = await pending;
      pending = undefined;
      if (bytesRead === 0) return;
      const chunk = bufs[which]!.subarray(0, bytesRead);
      which ^= 1;
      if (at !== null) at += bytesRead;
      pending = fh.read(bufs[which]!, 0, READ_CHUNK, at);
      yield chunk;
    }
  } finally {
    await pending?.catch(() => {});
    await fh.close();
  }
}

/**
 * The environment of a Node process: files relative to nothing (paths come resolved), stdio.
 * Call `loadNodeModules()` first (runMain and the default-environment hook do).
 */
/** Inputs that may wait forever (pipes): destroyed when a signal stops the run. */
const liveInputs = new Set<{ destroy(): void }>();

export function createNodeEnv(): Env {
  const { fs, path: nodePath, events, net } = mods();
  const fsp = fs.promises;
  return {
    resolvePath: (baseDir, path) => nodePath.resolve(baseDir, path),
    async openInput(path): Promise<ByteSource> {
      // Open first, so a missing or unreadable file fails here rather than mid-run.
      const fh = await fsp.open(path, "r");
      try {
        const st = await fh.stat();
        if (st.isDirectory()) throw new Error(`${path} is a directory`);
        if (st.isFile()) return { chunks: fileChunks(fh), size: st.size };
        if (st.isFIFO()) {
          // A named pipe (its writer is there: the open above waited for it). Read it through a
          // non-blocking descriptor: a blocking read would hold a thread-pool thread that no
          // signal can free, so the process could not exit after an interrupt.
          const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
          await fh.close();
          const socket = new net.Socket({ fd, readable: true, writable: false });
          liveInputs.add(socket);
          socket.on("close", () => liveInputs.delete(socket));
          return { chunks: socket };
        }
        return { chunks: fh.createReadStream({ highWaterMark: READ_CHUNK }) }; // closes fh at its end
      } catch (e) {
        await fh.close();
        throw e;
      }
    },
    // Checkpoints (§12): a file source from a saved offset; output files' lengths; a restored
    // output truncated to its saved length and appended to.
    async openInputAt(path, offset) {
      const fh = await fsp.open(path, "r");
      try {
        const st = await fh.stat();
        if (!st.isFile()) throw new Error(`${path} is not a regular file: a checkpoint cannot resume it`);
        return { chunks: fileChunks(fh, offset), size: st.size };
      } catch (e) {
        await fh.close();
        throw e;
      }
    },
    async fileSize(path) {
      try {
        return (await fsp.stat(path)).size;
      } catch {
        return undefined;
      }
    },
    async resumeOutput(path, length) {
      const size = (await fsp.stat(path)).size;
      if (size < length) throw new Error(`${path} has ${size} bytes, fewer than ${length}`);
      await fsp.truncate(path, length);
      const ws = fs.createWriteStream(path, { flags: "a" });
      await events.EventEmitter.once(ws, "open");
      return Object.assign(streamSink(ws, true), { resumed: true });
    },
    stdin: () => ({ chunks: process.stdin }),
    get stdout() {
      return (stdoutSink ??= streamSink(process.stdout, false));
    },
    async openOutput(path) {
      await fsp.mkdir(nodePath.dirname(path), { recursive: true });
      const ws = fs.createWriteStream(path);
      await events.EventEmitter.once(ws, "open"); // rejects if the file cannot be created
      return streamSink(ws, true);
    },
    stderr: (text) => {
      process.stderr.write(text);
    },
    stderrIsTTY: process.stderr.isTTY === true,
    now: () => performance.now(),
    wallClock: () => Date.now(),
    fileKey(path) {
      try {
        const st = fs.statSync(path); // follows symlinks
        return st.isFile() ? `inode:${st.dev}:${st.ino}` : undefined;
      } catch {
        // Not there yet: the real path of its nearest existing folder, then the rest.
      }
      const rest: string[] = [];
      let dir = nodePath.resolve(path);
      for (;;) {
        const parent = nodePath.dirname(dir);
        rest.unshift(nodePath.basename(dir));
        if (parent === dir) return `path:${nodePath.resolve(path)}`;
        dir = parent;
        try {
          return `path:${nodePath.join(fs.realpathSync(dir), ...rest)}`;
        } catch {
          // go up
        }
      }
    },
  };
}

// Loading this module makes the Node environment the default of runProgram (see driver.ts),
// and the stdlib's NEXMark generator the one `nexmark(...)` sources use: this entry is where the
// runtime meets the stdlib (driver.ts and the browser-safe runtime never import it).
setDefaultEnv(async () => (await loadNodeModules(), createNodeEnv()));
registerNexmark(nexmarkGenerator);
// The network connectors (§11): their code, and each client library, load on first use.
registerNetwork(async () => (await import("./net/index.js")).network);

const USAGE = `usage: node PROGRAM.mjs [--out NAME=PATH]... [--format F] [--dead-letter FILE] [--late FILE] [--sink-retry D] [--metrics HOST:PORT] [--strict] [--quiet] [--base-dir DIR]
                         [--checkpoint DIR [--checkpoint-every D] [--checkpoint-reset]]
  --out NAME=PATH     write output NAME to PATH (.csv → CSV, else JSONL) instead of its connector
  --format F          stdout outputs as jsonl (default), changelog or debezium (every change)
  --metrics HOST:PORT serve GET /metrics (Prometheus text) and GET /healthz while the run lasts
  --dead-letter FILE  write each bad input record there as a JSON line
  --late FILE         write each late record there as a JSON line
  --sink-retry D      how long a network sink retries before the run stops (exit 73; default 60s)
  --strict            stop at the first bad input record (exit 65)
  --quiet             no run summary or progress on stderr
  --base-dir DIR      folder that relative input/output paths resolve against
  --checkpoint DIR    make the run resumable: state, positions and output lengths saved in DIR
                      (restored when DIR holds a checkpoint; Ctrl-C then stops at a checkpoint)
  --checkpoint-every D  wall time between checkpoints (default 10s; e.g. 500ms, 30s, 5m)
  --checkpoint-reset  discard the checkpoint in DIR and start over`;

export interface MainOptions {
  /** Arguments (default: process.argv.slice(2)). */
  argv?: string[];
  /** Default base folder (default: the folder of `program.file`, relative to the working directory). */
  baseDir?: string;
  /** Extra run options (for tests and embedders). */
  run?: RunOptions;
  /** The command that runs the program, for hints in messages (default `node PROGRAM.mjs`). */
  command?: string;
  /** Aborting stops the run early, like a signal but without its exit code (`flowc run --watch`). */
  stop?: AbortSignal;
}

const FLAGS = ["--out", "--format", "--dead-letter", "--late", "--sink-retry", "--metrics", "--strict", "--quiet", "--base-dir", "--checkpoint", "--checkpoint-every", "--checkpoint-reset", "--help"];

/** `--checkpoint-every`: a duration such as `500ms`, `10s`, `5m`, `1h` (a bare number: seconds). */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = m[2] ?? "s";
  const ms = Number(m[1]) * (unit === "ms" ? 1 : unit === "s" ? 1000 : unit === "m" ? 60_000 : 3_600_000);
  return ms > 0 ? ms : undefined;
}

/** `--format`: how outputs without a format of their own print on stdout (§13). */
const STDOUT_FORMATS = ["jsonl", "changelog", "debezium"] as const;

/** The edit distance of two strings (insertions, deletions, substitutions). */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** The candidate nearest to `word` when it is near enough to be a likely typo. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(best.length / 3)) ? best : undefined;
}

/**
 * `--metrics HOST:PORT` (§10): `GET /metrics` in Prometheus text format and `GET /healthz` (200
 * while every connection is up, else 503 with the connections down), from the run's probe
 * (answers before the run has opened its sources are empty / healthy).
 */
async function serveMetrics(host: string, port: number): Promise<{ attach: (p: MetricsProbe) => void; close: () => Promise<void>; port: number }> {
  const http = await import("node:http");
  let probe: MetricsProbe | undefined;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD" }).end();
      return;
    }
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(probe?.text() ?? "");
      return;
    }
    if (path === "/healthz") {
      const h = probe?.health() ?? { ok: true, down: [] };
      res.writeHead(h.ok ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(h.ok ? { status: "ok" } : { status: "down", down: h.down }));
      return;
    }
    res.writeHead(404, { "content-type": "text/plain" }).end("not found: /metrics and /healthz are served here\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  server.unref();
  const address = server.address();
  return {
    attach: (p) => void (probe = p),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    port: typeof address === "object" && address !== null ? address.port : port,
  };
}

/** Parses the command line of a built program into run options. Throws UsageError. */
export function parseArgs(argv: readonly string[]): RunOptions & { help?: boolean; metricsListen?: { host: string; port: number } } {
  const opts: RunOptions & { help?: boolean; metricsListen?: { host: string; port: number } } = {};
  let checkpointDir: string | undefined;
  let everyMs: number | undefined;
  let reset = false;
  let i = 0;
  while (i < argv.length) {
    const arg = argv[i++]!;
    // `--flag=value` as well as `--flag value`.
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const inline = eq > 0 ? arg.slice(eq + 1) : undefined;
    const takesValue = flag === "--out" || flag === "--format" || flag === "--dead-letter" || flag === "--late" || flag === "--base-dir" || flag === "--sink-retry" || flag === "--metrics" || flag === "--checkpoint" || flag === "--checkpoint-every";
    let value = inline;
    if (takesValue && value === undefined) {
      value = argv[i++];
      if (value === undefined) throw new UsageError(`${flag} needs a value`);
    } else if (!takesValue && inline !== undefined) {
      throw new UsageError(`${flag} takes no value`);
    }
    switch (flag) {
      case "--out": {
        const at = value!.indexOf("=");
        if (at <= 0 || at === value!.length - 1) throw new UsageError(`--out expects NAME=PATH, got "${value}"`);
        // A null-prototype map: an output may be named `constructor` or `__proto__`.
        (opts.outOverrides ??= Object.create(null) as Record<string, string>)[value!.slice(0, at)] = value!.slice(at + 1);
        break;
      }
      case "--format": {
        const f = STDOUT_FORMATS.find((x) => x === value);
        if (f === undefined) throw new UsageError(`--format is one of ${STDOUT_FORMATS.join(", ")}, not "${value}"`);
        opts.stdoutFormat = f;
        break;
      }
      case "--dead-letter":
        opts.deadLetter = value!;
        break;
      case "--late":
        opts.lateFile = value!;
        break;
      case "--base-dir":
        opts.baseDir = value!;
        break;
      case "--metrics": {
        // HOST:PORT (a bare PORT listens on 127.0.0.1; port 0 picks a free one).
        const m = /^(?:(.*):)?(\d{1,5})$/.exec(value!);
        if (m === null || Number(m[2]) > 65535) throw new UsageError(`--metrics expects HOST:PORT, got "${value}"`);
        opts.metricsListen = { host: m[1] || "127.0.0.1", port: Number(m[2]) };
        break;
      }
      case "--sink-retry": {
        // A duration as in Flow: 500ms, 10s, 2m (a bare number is milliseconds).
        const m = /^(\d+)(ms|s|m)?$/.exec(value!);
        if (m === null) throw new UsageError(`--sink-retry expects a duration such as 10s or 500ms, got "${value}"`);
        opts.sinkRetryMs = Number(m[1]) * (m[2] === "s" ? 1000 : m[2] === "m" ? 60_000 : 1);
        break;
      }
      case "--strict":
        opts.strict = true;
        break;
      case "--checkpoint":
        checkpointDir = value!;
        break;
      case "--checkpoint-every": {
        const ms = parseDuration(value!);
        if (ms === undefined) throw new UsageError(`--checkpoint-every expects a duration such as 500ms, 10s or 5m, not "${value}"`);
        everyMs = ms;
        break;
      }
      case "--checkpoint-reset":
        reset = true;
        break;
      case "--quiet":
      case "-q":
        opts.summary = false;
        opts.progress = false;
        break;
      case "--help":
      case "-h":
        opts.help = true;
        break;
      default: {
        const near = flag.startsWith("-") ? closest(flag, FLAGS) : undefined;
        throw new UsageError(`unknown argument "${arg}"${near !== undefined ? ` (did you mean ${near}?)` : ""}`);
      }
    }
  }
  if (checkpointDir !== undefined) {
    // DIR is relative to the working directory, like every path on the command line (§12).
    opts.checkpoint = { storage: fileCheckpointStorage(checkpointDir), ...(everyMs !== undefined && { everyMs }), ...(reset && { reset }) };
  } else if (everyMs !== undefined || reset) {
    throw new UsageError(`${everyMs !== undefined ? "--checkpoint-every" : "--checkpoint-reset"} needs --checkpoint DIR`);
  }
  return opts;
}

/**
 * Runs `program` as a command-line program and sets `process.exitCode`: 0 ok, 2 usage error,
 * 65 bad input under --strict (or a CSV header without a declared column), 66 an input cannot be
 * read, 73 an output cannot be written, 70 internal error, 130 / 143 stopped by SIGINT / SIGTERM
 * (0 with --checkpoint: the run stopped at a final checkpoint, open windows not fired).
 * A signal ends the input early (LANGUAGE.md §10): windows fire, `emit final` outputs are written,
 * outputs are flushed and the summary says "interrupted"; a second signal exits at once.
 * Returns the exit code and, when the run completed, its summary.
 */
export async function runMain(program: Program, main: MainOptions = {}): Promise<{ code: number; summary?: RunSummary }> {
  const { path } = await loadNodeModules();
  const argv = main.argv ?? process.argv.slice(2);
  const command = main.command ?? `node ${path.basename(process.argv[1] ?? "PROGRAM.mjs")}`;
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv);
  } catch (e) {
    process.stderr.write(`flowc: ${(e as Error).message} (see ${command} --help)\n`);
    process.exitCode = 2;
    return { code: 2 };
  }
  if (parsed.help) {
    process.stdout.write(USAGE + "\n");
    process.exitCode = 0;
    return { code: 0 };
  }
  delete parsed.help;
  const listen = parsed.metricsListen;
  delete parsed.metricsListen;
  let metrics: Awaited<ReturnType<typeof serveMetrics>> | undefined;
  if (listen !== undefined) {
    try {
      metrics = await serveMetrics(listen.host, listen.port);
    } catch (e) {
      process.stderr.write(`flowc: --metrics ${listen.host}:${listen.port}: ${(e as Error).message}\n`);
      process.exitCode = 2;
      return { code: 2 };
    }
  }

  const controller = new AbortController();
  let signal: NodeJS.Signals | undefined;
  const signalCode = (s: NodeJS.Signals) => (s === "SIGTERM" ? 143 : 130);
  const onSignal = (s: NodeJS.Signals) => {
    if (signal !== undefined) process.exit(signalCode(s)); // a second signal: at once
    signal = s;
    controller.abort();
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const onStop = () => controller.abort();
  main.stop?.addEventListener("abort", onStop, { once: true });
  if (main.stop?.aborted) controller.abort();

  const options: RunOptions = {
    baseDir: main.baseDir ?? path.dirname(path.resolve(program.file)),
    signal: controller.signal,
    ...main.run,
    ...parsed,
    ...(metrics && { metrics: metrics.attach }),
  };
  let code = 0;
  let summary: RunSummary | undefined;
  try {
    summary = await runProgram(program, options);
    // With --checkpoint a signal stops the run at a checkpoint: a success (§10 "Stopping").
    if (signal !== undefined && options.checkpoint === undefined) code = signalCode(signal);
  } catch (e) {
    if (e instanceof RunError) {
      code = e.exitCode;
      // A strict stop was reported with the record already; say why the run ends.
      const msg = e instanceof StrictInputError ? "stopping at the first bad input record (--strict)" : e.message;
      process.stderr.write(`flowc: ${msg}\n`);
    } else {
      code = 70;
      const err = e as Error;
      process.stderr.write(`flowc: internal error: ${err?.message ?? String(e)}\n`);
      if (process.env.FLOWC_DEBUG && err?.stack) process.stderr.write(err.stack + "\n");
    }
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    main.stop?.removeEventListener("abort", onStop);
    // An interrupted read of stdin or a pipe would keep the process alive.
    if (signal !== undefined) {
      process.stdin.destroy();
      for (const input of liveInputs) input.destroy();
    }
  }
  await metrics?.close();
  process.exitCode = code;
  // After a signal, a read that cannot be cancelled (a pipe opened as a file source, blocked in
  // the thread pool) would keep the process alive: everything is flushed, so exit if it lingers.
  if (signal !== undefined) setTimeout(() => process.exit(code), 200).unref();
  return summary === undefined ? { code } : { code, summary };
}
