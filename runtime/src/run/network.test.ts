// SinkWriter (order, batches, retries, giving up with exit 73, `emit final` in one delivery) and
// the driver with network connectors registered in memory: a quiet live source does not hold
// back another one, a failing sink stops a run that waits for input, outputs are flushed
// before each wait (§10).
import { afterEach, describe, expect, it } from "vitest";
import type { GraphInstance, Program, RunContext, Schema } from "../contract.js";
import { runProgram, summaryLine } from "../driver.js";
import { createMemoryEnv } from "../env.js";
import { Inbox } from "../net/common.js";
import { OutputError } from "./errors.js";
import { ConnectionBoard, registerNetwork, SinkWriter, type MessageSink, type SinkChange } from "./network.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function fakeSink(failures: number): MessageSink & { batches: unknown[][]; tries: number; closed: boolean } {
  const s = {
    batches: [] as unknown[][],
    tries: 0,
    closed: false,
    async send(batch: readonly SinkChange[]) {
      s.tries++;
      if (s.tries <= failures) throw new Error(`refused ${s.tries}`);
      s.batches.push(batch.map((c) => (c.op === "delete" ? null : c.row)));
    },
    async close() {
      s.closed = true;
    },
  };
  return s;
}

describe("SinkWriter", () => {
  it("delivers in order, at most SINK_BATCH rows at a time, and drain waits for all", async () => {
    const env = createMemoryEnv();
    const sink = fakeSink(0);
    const w = new SinkWriter("output o (test)", sink, env, 1000);
    for (let i = 0; i < 2500; i++) w.write({ op: "insert", row: i });
    expect(w.pending).toBe(true);
    w.flush();
    await w.drain();
    expect(sink.batches.map((b) => b.length)).toEqual([1000, 1000, 500]);
    expect(sink.batches.flat()).toEqual(Array.from({ length: 2500 }, (_, i) => i));
    await w.close();
    expect(sink.closed).toBe(true);
  });

  it("retries a failed delivery with backoff and says so", async () => {
    const env = createMemoryEnv();
    const sink = fakeSink(2);
    const w = new SinkWriter("output o (test)", sink, env, 5000);
    w.write({ op: "insert", row: "a" });
    w.flush();
    await w.drain();
    expect(sink.batches).toEqual([["a"]]);
    expect(sink.tries).toBe(3);
    expect(env.stderrText()).toBe("flowc: output o (test): delivery failed (refused 1); retrying for up to 5 s\nflowc: output o (test): delivered again\n");
  });

  it("gives up after retryMs: an OutputError (exit 73) naming the sink, on drain and through `failed`", async () => {
    const env = createMemoryEnv();
    const sink = fakeSink(Infinity);
    const w = new SinkWriter("output o (test)", sink, env, 250);
    w.write({ op: "insert", row: "a" });
    w.flush();
    const failed = await w.failed;
    expect(failed).toBeInstanceOf(OutputError);
    expect(failed.exitCode).toBe(73);
    expect(failed.message).toMatch(/^cannot deliver to output o \(test\) \(retried for 0 s\): refused \d+$/);
    await expect(w.drain()).rejects.toBe(failed);
    expect(() => w.write({ op: "insert", row: "b" })).toThrow(failed);
  });

  it("`emit final`: nothing goes out before close, then every row in one delivery", async () => {
    const env = createMemoryEnv();
    const sink = fakeSink(0);
    const w = new SinkWriter("output o (test)", sink, env, 1000, true);
    for (let i = 0; i < 1500; i++) w.write({ op: "insert", row: i });
    w.flush();
    await w.drain();
    expect(sink.batches).toEqual([]);
    await w.close();
    expect(sink.batches.map((b) => b.length)).toEqual([1500]);
  });
});

it("the summary line names the connections that are down", () => {
  const s = { in: { xs: 0 }, out: { out1: 0 }, totalIn: 0, totalOut: 0, late: 0, bad: 0, elapsedMs: 5, eventsPerSec: 0, interrupted: true };
  expect(summaryLine({ ...s, connectionsDown: ["source xs (nats subject x) (CONNECTION_REFUSED)"] })).toBe(
    "flowc: interrupted, 0 in (xs 0), 0 out, 0 late, 0 bad, 5 ms, 0 events/s; connection down: source xs (nats subject x) (CONNECTION_REFUSED)",
  );
  const board = new ConnectionBoard();
  board.down("a", "x");
  board.down("b", "y");
  board.up("a");
  expect(board.list()).toEqual(["b (y)"]);
});

describe("runProgram with network connectors", () => {
  afterEach(() => registerNetwork(undefined));

  const int: Schema = { kind: "int" };
  /** Two network sources (no event time) into one output: each record goes through as is. */
  const program = (sink: boolean): Program => ({
    file: "live.flow",
    sources: [
      { name: "quiet", schema: int, connector: { kind: "websocket", url: "ws://quiet", format: "jsonl" } },
      { name: "busy", schema: int, connector: { kind: "websocket", url: "ws://busy", format: "jsonl" } },
    ],
    tables: [],
    outputs: [{ name: "out", schema: int, final: false, ...(sink && { connector: { kind: "http", sink: true, url: "http://x", method: "POST", format: "jsonl" } }) }],
    create(ctx: RunContext): GraphInstance {
      return { push: [(r: number) => ctx.emit[0]!(r), (r: number) => ctx.emit[0]!(r)], advance() {}, finish() {} };
    },
  });

  it("a quiet live source does not hold back another; rows are flushed before each wait", async () => {
    const inboxes = new Map<string, Inbox>();
    registerNetwork(async () => ({
      async openSource(o) {
        const inbox = new Inbox(100);
        inboxes.set(o.name, inbox);
        return { label: o.name, batches: inbox, close: async () => inbox.close(true) };
      },
      async openSink() {
        throw new Error("no sinks here");
      },
    }));
    let stdout = "";
    const env = createMemoryEnv({ onStdout: (t) => (stdout += t) });
    const stop = new AbortController();
    const run = runProgram(program(false), { env, signal: stop.signal, summary: false });
    await sleep(20);
    inboxes.get("quiet")!.put({ records: [1], bad: undefined });
    await sleep(20);
    inboxes.get("busy")!.put({ records: [2, 3], bad: undefined });
    await sleep(20);
    // Written out while both sources wait.
    expect(stdout).toBe("1\n2\n3\n");
    inboxes.get("busy")!.put({ records: [4], bad: undefined });
    await sleep(20);
    expect(stdout).toBe("1\n2\n3\n4\n");
    stop.abort();
    const summary = await run;
    expect(summary.in).toEqual({ quiet: 1, busy: 3 });
  });

  it("a sink that fails for good stops a run that is waiting for input (exit 73)", async () => {
    const inboxes: Inbox[] = [];
    registerNetwork(async () => ({
      async openSource() {
        const inbox = new Inbox(100);
        inboxes.push(inbox);
        return { label: "in", batches: inbox, close: async () => inbox.close(true) };
      },
      async openSink() {
        return fakeSink(Infinity);
      },
    }));
    const env = createMemoryEnv();
    const run = runProgram(program(true), { env, summary: false, sinkRetryMs: 200 });
    await sleep(20);
    inboxes[0]!.put({ records: [1], bad: undefined });
    const e = await run.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OutputError);
    expect((e as OutputError).message).toMatch(/^cannot deliver to output out \(http POST http:\/\/x\)/);
  });

  it("without registered connectors a network source is an InputError saying they need Node", async () => {
    const env = createMemoryEnv();
    await expect(runProgram(program(false), { env, summary: false })).rejects.toThrow(/source quiet needs the network connectors, which run on Node only/);
  });
});
