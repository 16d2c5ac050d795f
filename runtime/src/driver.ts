// The driver: runs a compiled `Program` (contract.ts) over its connectors.
//
//   1. loads every table (last row per key wins);
//   2. opens every source and reads them — one source: batches straight into `graph.push`;
//      several: merged by event time, smallest next time first, ties to the source declared
//      first (LANGUAGE.md §6 "Deterministic replay");
//   3. keeps each source's watermark (largest event time read − delay, from every valid record,
//      before any stage: a SourceClock, source-clock.ts) and calls `graph.advance` when it rises,
//      and with +∞ when the source ends;
//   4. calls `graph.finish()` and flushes the outputs; reports the run summary.
//
// Bad input (§6) is reported as `FILE:LINE: message` on stderr (at most `maxBadMessages` lines,
// all of them counted and dead-lettered), or stops the run under `strict`.
//
// `runProgram` puts together the parts in run/: outputs.ts (writers, the function per output,
// dead-letter and late files, output-path checks), diagnostics.ts (bad records — input that does
// not decode, records and rows the program failed on — and the progress line), inputs.ts
// (connectors, tables, sources), loops.ts (dispatch of records and watermarks into the graph),
// errors.ts and options.ts.
//
// Everything environment-specific (files, stdio, TTY, clocks) goes through an `Env` (env.ts); on
// Node the default one is loaded from node.ts by a dynamic import, so this module stays
// browser-safe. Every clock read is `Env.now()` (elapsed time, progress) or `Env.wallClock()`
// (arrival times).

import type { Program, RunContext } from "./contract.js";
import type { Env } from "./env.js";
import { BadRecords, compact, Progress } from "./run/diagnostics.js";
import { UsageError } from "./run/errors.js";
import { loadTables, openSources, type Opening, type SourceState } from "./run/inputs.js";
import { abortableReads, dispatch, Reader } from "./run/loops.js";
import { runProbe } from "./run/metrics.js";
import { stateEntries } from "./run/state-size.js";
import type { RunOptions, RunSummary } from "./run/options.js";
import { ConnectionBoard } from "./run/network.js";
import { checkNames, checkOutputPaths, Outputs } from "./run/outputs.js";
import { CHECKPOINT_BUCKETS_S, CheckpointRun } from "./checkpoint/run.js";

export { InputError, InputFormatError, OutputError, RunError, StrictInputError, UsageError } from "./run/errors.js";
export { registerNexmark, schemaAccepts } from "./run/inputs.js";
export type { NexmarkConnector, NexmarkFactory, NexmarkParams, NexmarkProvider, RunOptions, RunSummary } from "./run/options.js";

let defaultEnvFactory: (() => Env | Promise<Env>) | undefined;
/**
 * Sets the environment `runProgram` uses when `options.env` is not given. node.ts registers the
 * Node environment when it is loaded, so any Node entry point (runMain, a built program) has it.
 */
export function setDefaultEnv(factory: (() => Env | Promise<Env>) | undefined): void {
  defaultEnvFactory = factory;
}

const isNode = (): boolean => typeof (globalThis as any).process?.versions?.node === "string";

async function defaultEnv(): Promise<Env> {
  if (defaultEnvFactory) return defaultEnvFactory();
  if (isNode()) {
    // Unbundled use on Node (tests, tsx): load node.ts. The specifier is a variable so that
    // bundlers do not follow it — a browser bundle must not pull in node: modules.
    try {
      const spec = "./node.js";
      const node = await import(/* @vite-ignore */ spec);
      await node.loadNodeModules();
      return node.createNodeEnv();
    } catch {
      // fall through to the error below
    }
  }
  throw new Error(
    "runProgram: no options.env and no default environment (on Node, import runtime/src/node.ts, which registers one; elsewhere pass createMemoryEnv() or your own Env)",
  );
}

/** The one-line run summary, e.g. `flowc: 25 in (bids 25), 12 out, 3 late, 0 bad, 4 ms, 6.2k events/s`. */
export function summaryLine(s: RunSummary): string {
  const ins = Object.entries(s.in);
  const outs = Object.entries(s.out);
  const inText = `${s.totalIn} in` + (ins.length > 0 ? ` (${ins.map(([k, v]) => `${k} ${v}`).join(", ")})` : "");
  const outText = `${s.totalOut} out` + (outs.length > 1 ? ` (${outs.map(([k, v]) => `${k} ${v}`).join(", ")})` : "");
  const ms = s.elapsedMs < 10_000 ? `${Math.round(s.elapsedMs)} ms` : `${(s.elapsedMs / 1000).toFixed(1)} s`;
  const down = s.connectionsDown === undefined ? "" : `; connection${s.connectionsDown.length > 1 ? "s" : ""} down: ${s.connectionsDown.join(", ")}`;
  const ck = s.checkpoint === undefined ? "" : `${s.checkpoint.restored ? "resumed, " : ""}${s.checkpoint.suspended ? "checkpoint written, " : ""}`;
  return `flowc: ${s.interrupted ? "interrupted, " : ""}${ck}${inText}, ${outText}, ${s.late} late, ${s.bad} bad, ${ms}, ${compact(s.eventsPerSec)} events/s${down}`;
}

/**
 * When more than a tenth of the records read were dropped as late, a warning that says so and
 * names the event-time sources whose watermark could be larger; else undefined.
 */
export function lateWarning(s: RunSummary, program: Pick<Program, "sources">): string | undefined {
  if (s.totalIn === 0 || s.late * 10 <= s.totalIn) return undefined;
  const pct = Math.round((100 * s.late) / s.totalIn);
  const timed = program.sources.filter((src) => src.eventTime !== undefined).map((src) => src.name);
  const where = timed.length === 0 ? "" : `; consider a larger watermark on source${timed.length > 1 ? "s" : ""} ${timed.join(", ")}`;
  return `flowc: warning: ${pct}% of records were late (dropped)${where}`;
}

/** A run whose checkpoint says it completed: nothing is read or written (§12). */
function finishedRun(program: Program, options: RunOptions, env: Env, ck: CheckpointRun, started: number): RunSummary {
  const doc = ck.restored!;
  const summary: RunSummary = {
    in: Object.fromEntries(doc.sources.map((s) => [s.name, s.count])),
    out: { ...doc.counters.out },
    totalIn: doc.sources.reduce((a, s) => a + s.count, 0),
    totalOut: Object.values(doc.counters.out).reduce((a, n) => a + n, 0),
    late: doc.counters.late,
    bad: doc.counters.bad,
    elapsedMs: env.now() - started,
    eventsPerSec: 0,
    checkpoint: { where: options.checkpoint!.storage.where, written: 0, restored: true, suspended: false, finished: true },
  };
  if (options.summary !== false) {
    env.stderr(`flowc: the checkpoint in ${options.checkpoint!.storage.where} is of a run of ${program.file} that completed: nothing to do (--checkpoint-reset starts over)\n`);
  }
  return summary;
}

/** Runs `program` to the end of its inputs. Rejects with a `RunError` subclass for bad input
 *  under `strict`, unreadable inputs, unwritable outputs and unknown output names. */
export async function runProgram(program: Program, options: RunOptions = {}): Promise<RunSummary> {
  const env = options.env ?? (await defaultEnv());
  const started = env.now();
  const baseDir = options.baseDir ?? ".";
  const strict = options.strict === true;
  const showSummary = options.summary !== false;

  checkNames(program, options);
  checkOutputPaths(program, options, env, baseDir);
  // --checkpoint (§12): read (and check) the checkpoint before any output is opened.
  const ck = options.checkpoint !== undefined ? await CheckpointRun.open(program, options.checkpoint, env, options.signal) : undefined;
  if (ck?.finished === true) return finishedRun(program, options, env, ck, started);
  const board = new ConnectionBoard();
  const outputs = await Outputs.open(program, options, ck?.env ?? env, baseDir, board, ck?.sinkCheckpoint);

  const sources: SourceState[] = [];
  const progress = new Progress(env, options.progress ?? (showSummary && env.stderrIsTTY === true), started, sources);
  const bad = new BadRecords(env, progress, outputs.deadLetter, options.maxBadMessages ?? 100, strict);
  const nextBatch = abortableReads(options.signal);
  // When stdout's reader goes away (`| head`) the run stops — unless it also writes files (or
  // hands rows to callbacks): those must be complete, so it goes on, dropping stdout's rows.
  const onlyStdout = outputs.onlyStdout;
  const interrupted = (): boolean => options.signal?.aborted === true;
  const stopped = (): boolean => interrupted() || (onlyStdout && env.stdout.broken === true);
  const at: Opening = ck === undefined ? { env, baseDir, options, board } : { env, baseDir, options, board, openSourceFile: ck.openSourceFile, startOf: ck.startOf };
  let down: string[] = [];

  try {
    const tables = await loadTables(at, program, bad, strict);
    // A built-in that fails while a stage makes a row from its state drops that row, reported
    // like a failing record (never the firing of the window it belongs to).
    const ctx: RunContext = { emit: outputs.emit, change: outputs.change, late: outputs.late, tables, failed: (e, where) => bad.row(where, e) };
    const graph = program.create(ctx);
    await openSources(at, program, sources);
    const timing = ck === undefined ? undefined : () => ({ ...ck.timing, bounds: CHECKPOINT_BUCKETS_S });
    const state = () => stateEntries(program.file, program.state ?? [], graph);
    options.metrics?.(runProbe(sources, bad.bySource, outputs, program.outputs.map((o) => o.name), board, timing, state));
    const reader = new Reader(graph, program.loops, env, outputs, progress, bad, strict, stopped, nextBatch);
    ck?.attach(graph, sources, outputs, bad, reader);
    // A new lineage whose network sinks mark rows with its run id (§12) keeps that id before
    // any row goes out: a crash before the first checkpoint would otherwise restart a new one.
    if (ck !== undefined && ck.restored === undefined && outputs.marked) await ck.take(false);
    await dispatch(reader, sources);
    // Network sources wait for messages forever: the run has ended, so their connections close
    // (which are down at this moment goes into the summary).
    down = board.list();
    await Promise.all(sources.map((s) => s.close?.().catch(() => {})));
    // Stopped with --checkpoint: a final checkpoint instead of the end of input (§10 "Stopping").
    if (ck?.suspended === true) await ck.take(false);
    else {
      graph.finish();
      // Each network sink delivered and checked against its row count (§12: a gap is refused).
      if (ck !== undefined) await outputs.completeSinks();
    }
    progress.clear();
  } catch (e) {
    progress.clear();
    // Whatever was emitted before the failure is still written (e.g. before a strict stop).
    await outputs.closeAll().catch(() => {});
    for (const s of sources) void s.batches.return?.(undefined)?.catch(() => {});
    await Promise.all(sources.map((s) => s.close?.().catch(() => {})));
    throw e;
  }
  await outputs.closeAll();
  // Completed: a finished checkpoint — unless stdout's reader went away before the input ended.
  if (ck !== undefined && !ck.suspended && !(onlyStdout && env.stdout.broken === true)) await ck.take(true);

  const elapsedMs = env.now() - started;
  const summary: RunSummary = {
    in: Object.fromEntries(sources.map((s) => [s.name, s.count])),
    out: Object.fromEntries(program.outputs.map((o, k) => [o.name, outputs.counts[k]!])),
    totalIn: sources.reduce((a, s) => a + s.count, 0),
    totalOut: outputs.counts.reduce((a, n) => a + n, 0),
    late: outputs.lateCount,
    bad: bad.count,
    elapsedMs,
    eventsPerSec: 0,
  };
  summary.eventsPerSec = summary.totalIn / Math.max(elapsedMs / 1000, 1e-3);
  if (interrupted()) summary.interrupted = true;
  if (down.length > 0) summary.connectionsDown = down;
  if (ck !== undefined) {
    summary.checkpoint = { where: options.checkpoint!.storage.where, written: ck.written, restored: ck.restored !== undefined, suspended: ck.suspended };
    if (ck.written > 0) Object.assign(summary.checkpoint, { lastMs: ck.lastMs, lastBytes: ck.lastBytes });
    if (ck.live.count > 0) Object.assign(summary.checkpoint, { stallMs: ck.live.stallMs, liveWriteMs: ck.live.writeMs });
    if (ck.restored !== undefined) summary.checkpoint.restoreMs = ck.restoreMs;
  }
  const more = bad.more();
  if (more !== undefined) env.stderr(more + "\n");
  if (showSummary) {
    env.stderr(summaryLine(summary) + "\n");
    const warning = lateWarning(summary, program);
    if (warning !== undefined) env.stderr(warning + "\n");
  }
  return summary;
}
