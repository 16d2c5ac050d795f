// Real servers for the network connector tests (LANGUAGE.md §11: "tested against a real
// server"): each started on a free port in a temporary folder, stopped (and its folder removed)
// by `stop()`; `kill()` + `restart()` simulate a crash mid-run. `.ci/run` installs the Debian
// packages (nats-server redis-server postgresql mosquitto kcat).
//
// A test is skipped only when the server's binary is missing AND the environment variable CI is
// unset: under CI=true a missing server fails the test (`needServer`).

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { FLOWC } from "./helpers";

export const PG_BIN = "/usr/lib/postgresql/15/bin";

const BINARIES = {
  nats: "nats-server",
  redis: "redis-server",
  mqtt: "mosquitto",
  kafka: "kcat",
  postgres: join(PG_BIN, "postgres"),
} as const;
export type ServerKind = keyof typeof BINARIES;

function which(bin: string): string | undefined {
  if (bin.startsWith("/")) return existsSync(bin) ? bin : undefined;
  for (const dir of ["/usr/sbin", "/usr/bin", "/usr/local/bin", "/sbin", "/bin", ...(process.env.PATH ?? "").split(":")]) {
    if (dir !== "" && existsSync(join(dir, bin))) return join(dir, bin);
  }
  return undefined;
}

/**
 * True when the tests of `kind` can run. False (skip) only when its binary is missing and CI is
 * unset; under CI a missing binary throws, so the suite fails rather than passing vacuously.
 */
export function haveServer(kind: ServerKind): boolean {
  if (which(BINARIES[kind]) !== undefined) return true;
  if (process.env.CI !== undefined && process.env.CI !== "" && process.env.CI !== "false") {
    throw new Error(`${BINARIES[kind]} is not installed, and CI is set: the ${kind} connector tests cannot run (see .ci/run)`);
  }
  return false;
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until a TCP connection to `port` succeeds. */
export async function waitForPort(port: number, timeoutMs = 15_000): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = connect(port, "127.0.0.1");
      c.once("connect", () => (c.destroy(), resolve(true)));
      c.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

/** A running server: its URL and port; kill (SIGKILL, or a signal of its own), restart on the same port and data, stop. */
export interface TestServer {
  url: string;
  port: number;
  dir: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function exited(p: ChildProcess): Promise<void> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve() : new Promise((r) => p.once("exit", () => r()));
}

/** A server process started by `start()` (again on restart), on `port`, with data in `dir`. */
async function managed(dir: string, port: number, url: string, start: () => ChildProcess, ready: () => Promise<void> = () => waitForPort(port)): Promise<TestServer> {
  let proc = start();
  await ready();
  const kill = async (signal: NodeJS.Signals = "SIGKILL") => {
    proc.kill(signal);
    await exited(proc);
  };
  return {
    url,
    port,
    dir,
    kill,
    async restart() {
      proc = start();
      await ready();
    },
    async stop() {
      await kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const quiet = { stdio: ["ignore", "ignore", "pipe"] as ("ignore" | "pipe")[] };

export async function startNats(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "flowc-nats-"));
  const port = await freePort();
  return managed(dir, port, `nats://127.0.0.1:${port}`, () => spawn(which(BINARIES.nats)!, ["-js", "-sd", dir, "-p", String(port), "-a", "127.0.0.1"], quiet));
}

export async function startRedis(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "flowc-redis-"));
  const port = await freePort();
  // --appendonly: a killed and restarted server keeps the stream (a replayable source).
  return managed(dir, port, `redis://127.0.0.1:${port}`, () =>
    spawn(which(BINARIES.redis)!, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--dir", dir], quiet),
  );
}

export async function startMosquitto(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "flowc-mqtt-"));
  const port = await freePort();
  const conf = join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\n`);
  return managed(dir, port, `mqtt://127.0.0.1:${port}`, () => spawn(which(BINARIES.mqtt)!, ["-c", conf], quiet));
}

/**
 * Postgres 15 from Debian: initdb into a temporary folder as the `postgres` user (tests run as
 * root, which Postgres refuses), then the server on a free port with its socket in that folder.
 */
export async function startPostgres(): Promise<TestServer & { psql(sql: string): string }> {
  const dir = mkdtempSync(join(tmpdir(), "flowc-pg-"));
  chmodSync(dir, 0o777);
  const data = join(dir, "data");
  const port = await freePort();
  // As root, run as the `postgres` user — with spawn's uid/gid rather than runuser, so that the
  // process killed by kill() is the server itself.
  const user = process.getuid?.() === 0 ? postgresUser() : {};
  const init = spawnSync(join(PG_BIN, "initdb"), ["-D", data, "-U", "flowc", "--auth=trust", "-E", "UTF8", "--no-sync"], { encoding: "utf8", ...user });
  if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
  const server = await managed(dir, port, `postgres://flowc@127.0.0.1:${port}/postgres`, () =>
    spawn(join(PG_BIN, "postgres"), ["-D", data, "-p", String(port), "-k", dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"], { ...quiet, ...user }),
  async () => {
    await waitForPort(port);
    // Accepting connections only once recovery is done: wait for a query to succeed.
    await waitFor("postgres to accept queries", () => psqlRun(port, dir, "SELECT 1").status === 0);
  });
  return { ...server, psql: (sql: string) => {
    const r = psqlRun(port, dir, sql);
    if (r.status !== 0) throw new Error(`psql: ${r.stderr}`);
    return r.stdout;
  } };
}

function postgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(spawnSync("id", [flag, "postgres"], { encoding: "utf8" }).stdout.trim());
  const uid = id("-u");
  if (!Number.isInteger(uid)) throw new Error("no postgres user to run Postgres as (tests run as root)");
  return { uid, gid: id("-g") };
}

function psqlRun(port: number, dir: string, sql: string) {
  return spawnSync(join(PG_BIN, "psql"), ["-h", dir, "-p", String(port), "-U", "flowc", "-d", "postgres", "-XAtq", "-c", sql], { encoding: "utf8" });
}

/**
 * Kafka: librdkafka's mock cluster (3 brokers) kept alive by a kcat consumer; its bootstrap
 * address is printed on stderr. (No restart: the mock cluster lives in the kcat process.)
 */
export async function startKafka(): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), "flowc-kafka-"));
  const proc = spawn(which(BINARIES.kafka)!, ["-b", "localhost:1", "-C", "-t", "_warm", "-X", "test.mock.num.brokers=3", "-d", "mock"], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  const bootstrap = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`kcat printed no bootstrap address: ${err.slice(-500)}`)), 15_000);
    proc.stderr!.on("data", (b: Buffer) => {
      err += b.toString("latin1");
      const m = /bootstrap\.servers=([0-9.:,]+)/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    });
  });
  proc.stderr!.resume();
  const port = Number(bootstrap.split(",")[0]!.split(":")[1]);
  return {
    url: bootstrap,
    port,
    dir,
    async kill() {
      proc.kill("SIGKILL");
      await exited(proc);
    },
    async restart() {
      throw new Error("the mock Kafka cluster cannot be restarted");
    },
    async stop() {
      proc.kill("SIGKILL");
      await exited(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A kafkajs client of a test's mock cluster (for the test's own producers and consumers). */
/**
 * In a describe block: a mock Kafka cluster (startKafka) started before its tests, handed to
 * `use` with a client of it, and stopped after them.
 */
export function useKafka(use: (cluster: TestServer, kafka: import("kafkajs").Kafka) => void): void {
  let cluster: TestServer | undefined;
  beforeAll(async () => {
    cluster = await startKafka();
    use(cluster, await kafkaClient(cluster.url));
  });
  afterAll(async () => cluster?.stop());
}

export async function kafkaClient(bootstrap: string, clientId = "test"): Promise<import("kafkajs").Kafka> {
  const k = (await import("kafkajs")).default;
  return new k.Kafka({ clientId, brokers: bootstrap.split(","), logLevel: k.logLevel.NOTHING });
}

/** Sends `messages` to `topic` with a producer of its own: connected, sent, disconnected. */
export async function produceTo(kafka: import("kafkajs").Kafka, topic: string, messages: { key?: string; value: string; partition?: number }[]): Promise<void> {
  const p = kafka.producer();
  await p.connect();
  await p.send({ topic, messages });
  await p.disconnect();
}

/** A `flowc run` in the background: its stdout and stderr so far, and its exit. */
export interface LiveRun {
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (signals as 128 + n). */
  exit: Promise<number>;
  /** SIGINT: the input ends, windows fire, outputs flush (§10). */
  interrupt(): void;
}

export function runLive(args: string[], cwd: string, env: Record<string, string> = {}): LiveRun {
  return live(FLOWC, ["run", ...args], cwd, env);
}

/** `node MODULE.mjs ARGS` — a program written by `flowc build` — in the background. */
export function runBuilt(module: string, args: string[], cwd: string): LiveRun {
  return live(process.execPath, [module, ...args], cwd, {});
}

function live(command: string, args: string[], cwd: string, env: Record<string, string>): LiveRun {
  const p = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  p.stdout!.on("data", (b: Buffer) => (out += b.toString("utf8")));
  p.stderr!.on("data", (b: Buffer) => (err += b.toString("utf8")));
  const exit = new Promise<number>((resolve) => p.once("exit", (code, signal) => resolve(code ?? 128 + (signal === "SIGKILL" ? 9 : 15))));
  return { stdout: () => out, stderr: () => err, exit, interrupt: () => void p.kill("SIGINT") };
}
