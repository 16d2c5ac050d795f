// The driver's view of the outside world: files, stdin, stdout, stderr and a clock. The Node
// implementation is in node.ts (loaded only on Node); `createMemoryEnv` below serves tests,
// the browser playground and embedders. Nothing here imports Node modules.

/**
 * A readable input: a stream of byte chunks and, when known, its total size (for progress).
 * A chunk is only valid until the next one is asked for (the Node file reader reuses one
 * buffer): readers copy any bytes they keep.
 */
export interface ByteSource {
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
  size?: number;
}

/** A writable output. The driver buffers text and hands it over in large pieces. */
export interface OutputSink {
  /** Writes text; returns false when the caller should `await drain()` before writing more. */
  write(text: string): boolean;
  /** Resolves once buffered data has gone out (immediately if nothing is pending). */
  drain(): Promise<void>;
  /** Flushes and closes the output (for stdout: flushes only). */
  close(): Promise<void>;
  /** Set when the reader went away (e.g. EPIPE on stdout: `flowc run x.flow | head`). */
  readonly broken?: boolean;
  /**
   * Resolves once everything written so far has been handed to the operating system (a
   * checkpoint records a file's length only then). Optional: without it, `drain()` is trusted.
   */
  settled?(): Promise<void>;
  /** It continues a file a checkpoint restored: what opens a file (a CSV header) is there already. */
  readonly resumed?: boolean;
}

export interface Env {
  /** `path` resolved against `baseDir` (an absolute `path` stays as is). */
  resolvePath(baseDir: string, path: string): string;
  /** Opens a file for reading (path already resolved); rejects if it cannot be read. */
  openInput(path: string): Promise<ByteSource>;
  /** The process's standard input. */
  stdin(): ByteSource;
  /** Standard output (never closed by the driver, only flushed). */
  readonly stdout: OutputSink;
  /** Creates or truncates a file for writing (path already resolved). */
  openOutput(path: string): Promise<OutputSink>;
  /**
   * Checkpoints (§12), all optional. `openInputAt`: a file's bytes from byte `offset` on
   * (without it the bytes before are read and dropped). `fileSize`: a file's length in bytes,
   * undefined when it does not exist. `resumeOutput`: truncates an existing output file to
   * `length` bytes and opens it for appending (a restored run goes on writing it).
   */
  openInputAt?(path: string, offset: number): Promise<ByteSource>;
  fileSize?(path: string): Promise<number | undefined>;
  resumeOutput?(path: string, length: number): Promise<OutputSink>;
  /** Writes diagnostics (bad records, summary, progress) to standard error, unbuffered. */
  stderr(text: string): void;
  /** Standard error is a terminal (progress lines are shown only then). */
  readonly stderrIsTTY?: boolean;
  /** A monotonic clock in ms, for elapsed times (the run's duration, the progress line, pacing). */
  now(): number;
  /**
   * The wall clock, epoch ms: the arrival time of records of a source without event time.
   * Optional: without it the runtime reads `Date.now()`.
   */
  wallClock?(): number;
  /**
   * Resolves after `ms` ms (idle sources wait with it, §10). Optional: without it a timer. Tests
   * with a virtual `wallClock` give one that resolves as soon as their clock is moved on.
   */
  sleep?(ms: number): Promise<void>;
  /**
   * Identifies the file at `path` (already resolved) so that two spellings of one file compare
   * equal — symlinks, `..`, hard links: e.g. device and inode, or the real path of a file that
   * does not exist yet. undefined for what is not a regular file (/dev/null, a pipe): such paths
   * are never compared. Optional: without it paths are compared as resolved.
   */
  fileKey?(path: string): string | undefined;
}

/** Joins a relative path to a base folder with `/` (absolute paths and URLs are kept). */
export function joinPath(baseDir: string, path: string): string {
  if (path.startsWith("/") || /^[A-Za-z]:[\\/]/.test(path) || /^[a-z][a-z0-9+.-]*:\/\//i.test(path)) return path;
  if (baseDir === "" || baseDir === ".") return path;
  return baseDir.endsWith("/") ? baseDir + path : baseDir + "/" + path;
}

export interface MemoryEnvInit {
  /** Input files by path (as resolved: `baseDir/path`, or just `path` when baseDir is "."). */
  files?: Record<string, string | Uint8Array>;
  stdin?: string | Uint8Array;
  /** Split inputs into chunks of this many bytes (default 64 KiB) — tests use tiny chunks. */
  chunkSize?: number;
  stderrIsTTY?: boolean;
  /** Called with every piece written to stdout / stderr, as it is written. */
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** The monotonic clock (default performance.now): tests give a fake one to control time. */
  now?: () => number;
  /** The wall clock, epoch ms (default Date.now): arrival times. */
  wallClock?: () => number;
}

export interface MemoryEnv extends Env {
  /** Everything written to stdout so far. */
  stdoutText(): string;
  /** Everything written to stderr so far. */
  stderrText(): string;
  /** The text written to an output file, or undefined if it was never opened. */
  output(path: string): string | undefined;
  /** Input files (may be modified before a run). */
  readonly files: Map<string, string | Uint8Array>;
}

/** An environment that keeps files in memory: for tests, the playground and embedding. */
export function createMemoryEnv(init: MemoryEnvInit = {}): MemoryEnv {
  const encoder = new TextEncoder();
  const chunkSize = Math.max(1, init.chunkSize ?? 65536);
  const files = new Map<string, string | Uint8Array>(Object.entries(init.files ?? {}));
  const outputs = new Map<string, string[]>();
  const stdoutParts: string[] = [];
  const stderrParts: string[] = [];

  const bytesOf = (v: string | Uint8Array) => (typeof v === "string" ? encoder.encode(v) : v);
  function* chunksOf(bytes: Uint8Array): Iterable<Uint8Array> {
    for (let i = 0; i < bytes.length; i += chunkSize) yield bytes.subarray(i, i + chunkSize);
  }
  const sink = (parts: string[], on?: (text: string) => void): OutputSink => ({
    write(text) {
      parts.push(text);
      on?.(text);
      return true;
    },
    drain: () => Promise.resolve(),
    close: () => Promise.resolve(),
  });

  return {
    files,
    resolvePath: joinPath,
    async openInput(path) {
      const v = files.get(path);
      if (v === undefined) throw new Error(`no such file: ${path}`);
      const bytes = bytesOf(v);
      return { chunks: chunksOf(bytes), size: bytes.length };
    },
    stdin() {
      const bytes = bytesOf(init.stdin ?? "");
      return { chunks: chunksOf(bytes), size: bytes.length };
    },
    async openInputAt(path, offset) {
      const v = files.get(path);
      if (v === undefined) throw new Error(`no such file: ${path}`);
      const bytes = bytesOf(v);
      return { chunks: chunksOf(bytes.subarray(Math.min(offset, bytes.length))), size: bytes.length };
    },
    stdout: sink(stdoutParts, init.onStdout),
    async openOutput(path) {
      const parts: string[] = [];
      outputs.set(path, parts);
      return sink(parts);
    },
    async fileSize(path) {
      const out = outputs.get(path);
      if (out !== undefined) return encoder.encode(out.join("")).length;
      const v = files.get(path);
      return v === undefined ? undefined : bytesOf(v).length;
    },
    async resumeOutput(path, length) {
      const bytes = encoder.encode(outputs.get(path)?.join("") ?? "");
      if (bytes.length < length) throw new Error(`${path} has ${bytes.length} bytes, fewer than ${length}`);
      const parts = [new TextDecoder().decode(bytes.subarray(0, length))];
      outputs.set(path, parts);
      return sink(parts);
    },
    stderr(text) {
      stderrParts.push(text);
      init.onStderr?.(text);
    },
    stderrIsTTY: init.stderrIsTTY ?? false,
    now: init.now ?? (() => (typeof performance !== "undefined" ? performance.now() : Date.now())),
    wallClock: init.wallClock ?? (() => Date.now()),
    stdoutText: () => stdoutParts.join(""),
    stderrText: () => stderrParts.join(""),
    output: (path) => outputs.get(path)?.join(""),
  };
}
