// The read log (LANGUAGE.md §12): its text read back (a torn tail ignored, a log of another
// checkpoint not used), the cutting of records read again into the logged batches, and a run
// over a fake broker connector that dies mid-run and is restored: the restored run puts the
// very same records, times, watermarks and idle changes into the graph, in the same order, as
// the run that died — though the broker now delivers in other batches and another order — and
// then reads on live to the end.

import { afterEach, describe, expect, it } from "vitest";
import type { GraphInstance, Program, Schema } from "../contract.js";
import { runProgram } from "../driver.js";
import { createMemoryEnv } from "../env.js";
import { Inbox } from "../net/common.js";
import { registerNetwork, type NetSourceOpening } from "../run/network.js";
import { headerLine, memoryReadLogStorage, parseReadLog, ReadLog, ReplayBuffer, type LogStep } from "./read-log.js";
import { memoryCheckpointStorage } from "./run.js";

describe("the read log's text", () => {
  const steps: LogStep[] = [
    { k: "s", t: 1000 },
    { k: "b", s: 0, p: 2, n: 3, bad: 1, t: 1001, from: 17, to: 20, parts: [0, 1, 2] },
    { k: "t", t: 1050 },
    { k: "f", s: 1, p: -1, at: "1700000000000-3" },
    { k: "b", s: 1, n: 1, bad: 0, t: 1060, from: "1700000000000-3", to: "1700000000000-3" },
    { k: "e", s: 2 },
  ];

  it("round trip: what a log records and flushes is read back in order", async () => {
    const storage = memoryReadLogStorage();
    const log = new ReadLog(storage, "run-1");
    await log.start(4);
    for (const s of steps) log.record(s);
    expect(storage.text).toBe(headerLine({ run: "run-1", after: 4 })); // buffered until flush
    log.flush();
    expect(parseReadLog(storage.text!)).toEqual({ header: { run: "run-1", after: 4 }, steps });
  });

  it("a checkpoint written while the run goes on: its log holds the steps since its cut, replayed ones not yet taken included", async () => {
    const storage = memoryReadLogStorage();
    // A restored run with two steps left to replay.
    const log = new ReadLog(storage, "run-1", [steps[0]!, steps[1]!]);
    await log.start(4);
    expect(log.next()).toEqual(steps[0]);
    log.mark(); // the cut of checkpoint 5: steps[1] not replayed yet
    expect(log.next()).toEqual(steps[1]); // replayed while checkpoint 5 is written
    log.record(steps[2]!);
    log.flush(); // to the old log
    log.record(steps[3]!); // not flushed yet
    log.rotateSince(5);
    log.record(steps[4]!);
    log.flush();
    expect(parseReadLog(storage.text!)).toEqual({ header: { run: "run-1", after: 5 }, steps: [steps[1], steps[2], steps[3], steps[4]] });
  });

  it("a torn or damaged tail ends the log there", () => {
    const text = headerLine({ run: "r", after: 0 }) + steps.map((s) => JSON.stringify(s) + "\n").join("");
    const torn = text + `{"k":"b","s":0,"n":`;
    expect(parseReadLog(torn)!.steps).toEqual(steps);
    // A line cut short and then written after (a crash mid-write, then appends): the rest goes.
    const damaged = headerLine({ run: "r", after: 0 }) + JSON.stringify(steps[0]) + "\n" + `{"k":"t","t":` + "\n" + JSON.stringify(steps[2]) + "\n";
    expect(parseReadLog(damaged)!.steps).toEqual([steps[0]]);
    // A step that is not one (a wrong field) also ends it.
    const wrong = headerLine({ run: "r", after: 0 }) + `{"k":"b","s":"x","n":1,"bad":0,"t":1}\n`;
    expect(parseReadLog(wrong)!.steps).toEqual([]);
    expect(parseReadLog("")).toBeUndefined();
    expect(parseReadLog("not a header\n")).toBeUndefined();
    expect(parseReadLog(`{"log":"flowc-read-log","v":1,"run":"r"}\n`)).toBeUndefined(); // no `after`
  });

  it("replay order: next() hands the steps in order; a rotation keeps those not replayed yet", async () => {
    const storage = memoryReadLogStorage();
    const log = new ReadLog(storage, "r", steps);
    expect([log.next(), log.next()]).toEqual([steps[0], steps[1]]);
    expect(log.left).toBe(4);
    log.record({ k: "t", t: 5 }); // recorded before the checkpoint: not kept
    await log.rotate(9);
    const back = parseReadLog(storage.text!)!;
    expect(back.header).toEqual({ run: "r", after: 9 });
    expect(back.steps).toEqual(steps.slice(2));
    expect([log.next(), log.next(), log.next(), log.next(), log.next()]).toEqual([...steps.slice(2), undefined]);
  });
});

describe("ReplayBuffer", () => {
  it("cuts records read again into the logged batches, whatever batches they come in", () => {
    const buf = new ReplayBuffer();
    buf.add({ records: [1, 2, 3], bad: [{ line: 1, raw: "x", error: "e", index: 1 }], bytes: 0, partition: 0, to: 4 });
    expect(buf.take(0, 4, 1)).toBeUndefined(); // not read yet
    buf.add({ records: [4, 5], bad: [{ line: 1, raw: "y", error: "e", index: 2 }], bytes: 0, partition: 0, to: 7 });
    buf.add({ records: [10], bytes: 0, partition: 1, to: 0 });
    const a = buf.take(0, 2, 1)!;
    expect(a.records).toEqual([1, 2]);
    expect(a.bad!.map((b) => [b.raw, b.index])).toEqual([["x", 1]]);
    expect(a.partition).toBe(0);
    // The second bad record came after 4 and 5: after all three records of this batch.
    const b = buf.take(0, 3, 1)!;
    expect(b.records).toEqual([3, 4, 5]);
    expect(b.bad!.map((x) => [x.raw, x.index])).toEqual([["y", 3]]);
    expect(buf.take(1, 2, 0)).toBeUndefined();
    expect(buf.leftovers()).toEqual([{ records: [10], bytes: 0, partition: 1, to: 0 }]);
    expect(buf.leftovers()).toEqual([]);
  });

  it("records that start elsewhere than the logged batch are refused", () => {
    const buf = new ReplayBuffer();
    buf.add({ records: [1, 2], bytes: 0, partition: 3, from: 40, to: 41 });
    expect(buf.take(3, 1, 0, 40)!.records).toEqual([1]);
    // Inside a delivered batch the place is not known: not checked.
    expect(buf.take(3, 1, 0, 41)!.records).toEqual([2]);
    buf.add({ records: [9], bytes: 0, partition: 3, from: 90, to: 90 });
    expect(() => buf.take(3, 1, 0, 42)).toThrow(/the read log's next batch of partition 3 starts at 42, but the source delivered from 90/);
  });

  it("a source without partitions is partition -1", () => {
    const buf = new ReplayBuffer();
    buf.add({ records: ["a", "b"], bytes: 0, to: "5-0" });
    expect(buf.take(-1, 1, 0)).toEqual({ records: ["a"], bytes: 0 });
    expect(buf.leftovers()).toEqual([{ records: ["b"], bytes: 0, to: "5-0" }]);
  });
});

// ---- A run that dies and is restored, over a fake broker ------------------------------------

/** A small deterministic generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PER_PARTITION = 60;
type Rec = { p: number; o: number; t: number };

/**
 * A broker's messages: source "a" with partitions 0 and 1 (Kafka-like), source "b" without
 * (NATS-like); each message one record whose time rises within its partition.
 */
function messagesOf(source: string, p: number): Rec[] {
  return Array.from({ length: PER_PARTITION }, (_, o) => ({ p, o, t: 1_000_000 + o * 10 + (source === "a" ? p : 5) }));
}

/** A fake connector: batches of 1–6 messages from a random partition after random short delays, from `start`. */
function fakeBroker(seed: number, opened: NetSourceOpening[]) {
  return async () => ({
    async openSource(o: NetSourceOpening) {
      opened.push(o);
      const random = rng(seed + o.name.length);
      const parts = o.name === "a" ? [0, 1] : [-1];
      const next = new Map(parts.map((p) => {
        const at = o.start?.get(p);
        return [p, at === undefined ? 0 : at.after !== undefined ? Number(at.after) + 1 : Number(at.at)];
      }));
      const inbox = new Inbox(1000);
      let closed = false;
      void (async () => {
        while (!closed) {
          await new Promise((r) => setTimeout(r, random() < 0.15 ? 25 : random() * 3));
          const open = parts.filter((p) => next.get(p)! < PER_PARTITION);
          if (open.length === 0) continue;
          const p = open[Math.floor(random() * open.length)]!;
          const from = next.get(p)!;
          const to = Math.min(PER_PARTITION, from + 1 + Math.floor(random() * 6));
          next.set(p, to);
          const records = messagesOf(o.name, p).slice(from, to);
          inbox.put({ records, bad: undefined }, undefined, p >= 0 ? p : undefined, { from, to: to - 1 });
        }
      })();
      return {
        label: `fake ${o.name}`,
        batches: inbox,
        ...(o.name === "a" && { partitions: () => [0, 1] }),
        async close() {
          closed = true;
          inbox.close(true);
        },
      };
    },
    async openSink(): Promise<never> {
      throw new Error("no sinks here");
    },
  });
}

const R: Schema = { kind: "record", fields: [{ name: "p", type: { kind: "int" } }, { name: "o", type: { kind: "int" } }, { name: "t", type: { kind: "time" } }] };

/** A program over sources a and b whose graph writes down everything put into it. */
function program(trace: string[], onPush: (n: number) => void): Program {
  let pushed = 0;
  const push = (i: number) => (r: Rec, t: number) => {
    trace.push(`push ${i} ${r.p}:${r.o} @${t}`);
    onPush(++pushed);
  };
  return {
    file: "fake.flow",
    sources: [
      { name: "a", schema: R, connector: { kind: "kafka", topic: "x", brokers: "h:1", group: "g", start: "earliest", format: "jsonl" }, eventTime: { field: "t", delayMs: 10 }, idleMs: 15 },
      { name: "b", schema: R, connector: { kind: "nats", subject: "x", url: "nats://h:1", stream: "S", start: "earliest", format: "jsonl" }, eventTime: { field: "t", delayMs: 10 }, idleMs: 15 },
    ],
    tables: [],
    outputs: [],
    state: [],
    watermarkMembers: [],
    create: (): GraphInstance => ({
      push: [push(0), push(1)],
      advance: (i, wm) => void trace.push(`advance ${i} ${wm}`),
      idle: (i, on) => void trace.push(`idle ${i} ${on}`),
      finish: () => {},
    }),
  } as Program;
}

afterEach(() => registerNetwork(undefined));

describe("a restored run replays the read log", () => {
  it("the same records, times, watermarks and idle changes in the same order, then on live", async () => {
    const storage = memoryCheckpointStorage();
    const total = 3 * PER_PARTITION;
    // The first run dies (a failure in the graph) after about half of the records, before any
    // checkpoint: the read log alone says what it did.
    const first: string[] = [];
    registerNetwork(fakeBroker(1, []));
    const crash = program(first, (n) => {
      if (n === 97) throw new Error("crash");
    });
    const env1 = createMemoryEnv({});
    await expect(runProgram(crash, { env: env1, summary: false, checkpoint: { storage, everyMs: 3_600_000 } })).rejects.toThrow("crash");
    const log = parseReadLog(storage.readLog.text!)!;
    expect(log.header.after).toBe(0);
    expect(log.steps.filter((s) => s.k === "b").length).toBeGreaterThan(10);
    expect(log.steps.some((s) => s.k === "t")).toBe(true); // idle ticks happened (delays > 15 ms)

    // The restored run: another delivery order; it stops once every record is in.
    const second: string[] = [];
    const opened: NetSourceOpening[] = [];
    registerNetwork(fakeBroker(99, opened));
    const stop = new AbortController();
    const env2 = createMemoryEnv({});
    const summary = await runProgram(
      program(second, (n) => {
        if (n === total) setTimeout(() => stop.abort(), 30);
      }),
      { env: env2, summary: false, signal: stop.signal, checkpoint: { storage, everyMs: 3_600_000 } },
    );
    // The sources were opened at the places the log names (a fresh lineage: at their start).
    expect(opened.find((o) => o.name === "a")!.start).toEqual(new Map([[0, { at: 0 }], [1, { at: 0 }]]));
    expect(second.slice(0, first.length)).toEqual(first);
    // Then every record exactly once, in each partition's order.
    const pushes = second.filter((l) => l.startsWith("push"));
    expect(pushes.length).toBe(total);
    expect(new Set(pushes).size).toBe(total);
    expect(summary.checkpoint?.suspended).toBe(true);

    // The checkpoint the stop wrote: broker places after the last message of each partition,
    // idle state, a read log started after it.
    const doc = JSON.parse(storage.text!.slice(storage.text!.indexOf("\n") + 1));
    expect(doc.version).toBe(2);
    const a = doc.sources.find((s: { name: string }) => s.name === "a");
    expect(a.kind).toBe("broker");
    expect(a.partitions).toEqual([{ p: 0, after: PER_PARTITION - 1 }, { p: 1, after: PER_PARTITION - 1 }]);
    expect(a.started).toBe(true);
    expect(a.clock.partitions.map((x: { p: number }) => x.p)).toEqual([0, 1]);
    expect(a.idle).toBeDefined();
    expect(doc.sources[1].partitions).toEqual([{ p: -1, after: PER_PARTITION - 1 }]);
    expect(parseReadLog(storage.readLog.text!)!.header).toEqual({ run: doc.runId, after: doc.seq });

    // Restored from that checkpoint: the sources start after the saved places; nothing is left.
    const third: string[] = [];
    const opened3: NetSourceOpening[] = [];
    registerNetwork(fakeBroker(5, opened3));
    const stop3 = new AbortController();
    setTimeout(() => stop3.abort(), 120);
    await runProgram(program(third, () => {}), { env: createMemoryEnv({}), summary: false, signal: stop3.signal, checkpoint: { storage, everyMs: 3_600_000 } });
    expect(opened3.find((o) => o.name === "b")!.start).toEqual(new Map([[-1, { after: PER_PARTITION - 1 }]]));
    expect(third.filter((l) => l.startsWith("push"))).toEqual([]);
  });
});

describe("a source that cannot replay", () => {
  it("a restore says how many records arrived after the checkpoint and were lost", async () => {
    const storage = memoryCheckpointStorage();
    registerNetwork(fakeBroker(3, []));
    const m = (onPush: (n: number) => void): Program => {
      const p = program([], onPush);
      return { ...p, sources: [{ ...p.sources[1]!, name: "b", connector: { kind: "mqtt", topic: "x/#", url: "mqtt://h:1", qos: 1, format: "jsonl" } }] };
    };
    await expect(
      runProgram(
        m((n) => {
          if (n === 20) throw new Error("crash");
        }),
        { env: createMemoryEnv({}), summary: false, checkpoint: { storage, everyMs: 3_600_000 } },
      ),
    ).rejects.toThrow("crash");
    const logged = parseReadLog(storage.readLog.text!)!.steps.reduce((a, s) => a + (s.k === "b" ? s.n : 0), 0);
    expect(logged).toBeGreaterThanOrEqual(20);
    const env = createMemoryEnv({});
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 50);
    const pushed: number[] = [];
    await runProgram(m((n) => void pushed.push(n)), { env, summary: false, signal: stop.signal, checkpoint: { storage, everyMs: 3_600_000 } });
    expect(env.stderrText()).toContain(`flowc: source b (fake b): ${logged} records that arrived after the last checkpoint were lost (the source cannot replay)\n`);
  });
});
