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
import { ConnectionBoard, markOfHeaders, markText, parseMark, registerNetwork, RowMarks, SinkWriter, type LastMessage, type MessageSink, type SinkChange } from "./network.js";

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

  it("a flush sends everything queued, also what came while a delivery was in flight, without another flush", async () => {
    const env = createMemoryEnv();
    const sink = fakeSink(0);
    const slow: MessageSink = { send: async (b) => (await sleep(20), sink.send(b)), close: () => sink.close() };
    const w = new SinkWriter("output o (test)", slow, env, 1000);
    for (let i = 0; i < 300; i++) w.write({ op: "insert", row: i });
    w.flush(); // 300 rows on their way
    for (let i = 300; i < 1750; i++) w.write({ op: "insert", row: i });
    w.flush(); // asked while the first delivery is in flight: 1,450 rows, more than one batch
    // The run now waits for input (no more flushes, no drain): every row must still go out.
    await sleep(200);
    expect(sink.batches.map((b) => b.length)).toEqual([300, 1000, 450]);
    await w.close();
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

describe("RowMarks: the skip rule of a restored kafka/nats/redis sink (§12)", () => {
  const label = "output o (kafka topic t)";
  const last = (entries: [string, LastMessage][]) => new Map(entries);

  it("a new lineage reads nothing back and skips nothing; its position is what it sent", () => {
    const m = new RowMarks("run1", label, undefined);
    expect(m.resumed).toBe(true);
    expect(m.skip("0", 1)).toBe(false);
    m.sent("0", 3);
    m.sent("1", 2);
    m.sent("0", 1);
    expect(m.position("o")).toEqual({ output: "o", places: [["0", 3], ["1", 2]] });
  });

  it("restored: replayed rows up to the last one read back are skipped, per place", () => {
    const m = new RowMarks("run1", label, { output: "o", places: [["0", 10], ["1", 4]] });
    expect(m.resumed).toBe(false);
    // Partition 0 got rows up to 17 after the checkpoint, partition 1 none; partition 2 holds an older lineage's.
    m.resume(last([["0", { run: "run1", row: 17 }], ["1", { run: "run1", row: 4 }], ["2", { run: "old", row: 99 }]]), (p) => `partition ${p}`);
    expect(m.resumed).toBe(true);
    expect([16, 17, 18].map((n) => m.skip("0", n))).toEqual([true, true, false]);
    expect([4, 5].map((n) => m.skip("1", n))).toEqual([true, false]);
    expect(m.skip("2", 1)).toBe(false);
    expect(m.position("o").places).toEqual([["0", 17], ["1", 4]]);
    m.complete(20);
    expect(() => m.complete(16)).toThrow(/^output o \(kafka topic t\): it holds row 17 of this run \(at 0\), but the run produced 16 rows/);
  });

  it("refuses another run's message, an unmarked one, lost messages, an emptied place", () => {
    const saved = { output: "o", places: [["", 10]] as [string, number][] };
    const refused = (l: [string, LastMessage][]) => {
      try {
        new RowMarks("run1", label, saved).resume(last(l), () => "stream s");
      } catch (e) {
        expect(e).toBeInstanceOf(OutputError);
        expect((e as OutputError).exitCode).toBe(73);
        return (e as Error).message;
      }
      return "accepted";
    };
    expect(refused([["", { run: "run2", row: 12 }]])).toMatch(/^output o \(kafka topic t\): the last message in stream s is of another run \(run2 row 12\), not of this run \(run1\); refusing/);
    expect(refused([["", { foreign: "has no _flowc field" }]])).toMatch(/the last message in stream s has no _flowc field; refusing/);
    expect(refused([["", { run: "run1", row: 9 }]])).toMatch(/the last message in stream s is row 9, but rows up to row 10 had been delivered there \(messages were lost\)/);
    expect(refused([])).toMatch(/stream s is empty, but rows up to row 10 had been delivered there/);
    expect(refused([["", { run: "run1", row: 10 }]])).toBe("accepted");
    // Nothing delivered at the checkpoint: whatever is there is an earlier lineage's.
    const fresh = new RowMarks("run1", label, undefined, true);
    expect(fresh.resumed).toBe(false);
    fresh.resume(last([["", { run: "run0", row: 5 }]]));
    expect(fresh.skip("", 1)).toBe(false);
  });

  it("a layout (Kafka: the partition count) that changed since the checkpoint is refused", () => {
    const saved = { output: "o", places: [["0", 3]] as [string, number][], layout: "4 partitions" };
    expect(() => new RowMarks("run1", label, saved).setLayout("6 partitions")).toThrow(/^output o \(kafka topic t\): it had 4 partitions at the checkpoint and has 6 partitions now/);
    const same = new RowMarks("run1", label, saved);
    same.setLayout("4 partitions");
    same.resume(last([["0", { run: "run1", row: 3 }]]));
    expect(same.position("o")).toEqual({ output: "o", places: [["0", 3]], layout: "4 partitions" });
    // A new lineage takes the topic as it is.
    const fresh = new RowMarks("run1", label, undefined);
    fresh.setLayout("6 partitions");
    expect(fresh.position("o").layout).toBe("6 partitions");
  });

  it("after a failed delivery the next try reads back again, checked against what was delivered", () => {
    const m = new RowMarks("run1", label, undefined);
    m.sent("", 5);
    m.unsure();
    expect(m.resumed).toBe(false);
    // Rows 6..8 of the failed batch got there: a retry skips them.
    m.resume(last([["", { run: "run1", row: 8 }]]));
    expect([8, 9].map((n) => m.skip("", n))).toEqual([true, false]);
    m.unsure();
    expect(() => m.resume(last([["", { run: "run1", row: 7 }]]))).toThrow(/is row 7, but rows up to row 8 had been delivered there/);
    // Not resumed yet (a restore that has not read back): nothing to forget.
    const restoring = new RowMarks("run1", label, { output: "o", places: [["", 3]] });
    restoring.unsure();
    expect(() => restoring.resume(last([]))).toThrow(/is empty, but rows up to row 3 had been delivered/);
  });

  it("marks as text and headers", () => {
    expect(markText({ run: "a-b", row: 7 })).toBe("a-b:7");
    expect(parseMark("a-b:7")).toEqual({ run: "a-b", row: 7 });
    for (const bad of ["a-b", ":7", "a:0", "a:x", "a:-1", null, undefined]) expect(parseMark(bad)).toBeUndefined();
    expect(markOfHeaders("r", "12")).toEqual({ run: "r", row: 12 });
    expect(markOfHeaders("r", "012")).toBeUndefined();
    expect(markOfHeaders(undefined, "1")).toBeUndefined();
  });

  it("SinkWriter: a refusal (OutputError) from the sink is not retried", async () => {
    const env = createMemoryEnv();
    let tries = 0;
    const sink: MessageSink = {
      async send() {
        tries++;
        throw new OutputError("output o (test): refused");
      },
      async close() {},
    };
    const w = new SinkWriter("output o (test)", sink, env, 60_000);
    w.write({ op: "insert", row: 1, seq: 1 });
    w.flush();
    expect((await w.failed).message).toBe("output o (test): refused");
    expect(tries).toBe(1);
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
