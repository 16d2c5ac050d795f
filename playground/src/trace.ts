// Running a compiled program with a trace: what the playground's worker does. It wraps the
// program's graph instance (from `program.create`) to record, in processing order, every source
// record with its event time, every watermark, and for each windowed operator the rows it was
// pushed (late or not), the watermarks it saw and the rows it fired. Nothing here touches the DOM,
// so the worker and the unit tests (on Node) share it.
import type { GraphInstance, Program, RunContext, Schema } from "../../runtime/src/contract";
import type { MemoryEnvInit, MemoryEnv } from "../../runtime/src/env";
import type { RunOptions, RunSummary } from "../../runtime/src/driver";
import { DEAD_LETTER_PATH, parseDeadLetters, type RunProblem } from "./results";

/** The parts of the runtime bundle a traced run needs (the worker gets them by `import(url)`). */
export interface RuntimeApi {
  runProgram(program: Program, options: RunOptions): Promise<RunSummary>;
  createMemoryEnv(init?: MemoryEnvInit): MemoryEnv;
  makeFormatter(schema: Schema): (value: unknown) => string;
  makeChangeFormatter: typeof import("../../runtime/src/format").makeChangeFormatter;
  PresentRows: typeof import("../../runtime/src/format").PresentRows;
}

/** A window as the timeline needs it. */
export type WindowInfo = NonNullable<OpInfo["window"]>;

/** An operator the timeline draws, as the page describes it to the worker: a windowed one
 *  (`window` set) or an interval join (`interval` set). */
export interface OpInfo {
  id: number;
  kind: "agg" | "top" | "distinct" | "join";
  window?: { kind: "tumbling" | "hop" | "session"; size: number; slide: number; carried: boolean };
  /** Interval joins: right time − left time must be within [lower, upper] (ms). */
  interval?: { lower: number; upper: number };
  /** Joins other than inner (LANGUAGE.md §13): the timeline marks unmatched and absent rows. */
  joinKind?: "left" | "right" | "full" | "semi" | "anti";
  label: string;
  line: number;
  /** Group key names (session windows are per key). */
  keys: string[];
}

export interface RunLimits {
  /** Rows kept per output (all are counted). */
  maxRows: number;
  /** Source records (and operator pushes) kept for the timeline. */
  maxTrace: number;
}

export interface TracedRecord {
  step: number;
  t: number;
  /** The record as JSON (the output format: times as ISO text). */
  json: string;
  late?: boolean;
}

export interface SourceTrace {
  name: string;
  /** Has `event time` (else records carry arrival time). */
  timed: boolean;
  field?: string;
  delay: number;
  records: TracedRecord[];
  /** Watermark after step `step` (+Infinity once the source has ended; JSON turns it to null). */
  watermarks: { step: number; wm: number | null }[];
}

export interface OpTrace {
  id: number;
  /** Rows pushed to the operator: their time, whether they were dropped as late, join side. */
  pushes: { step: number; t: number; late?: boolean; side?: 0 | 1; json?: string }[];
  advances: { step: number; wm: number | null }[];
  /** Rows the operator emitted (fired windows), with their time (window end − 1 ms). */
  emits: { step: number; t: number; json: string }[];
  /** Interval joins: each pair emitted, as indices into `pushes` of its left and right row. */
  pairs: { step: number; left: number; right: number }[];
}

export interface Trace {
  steps: number;
  truncated: boolean;
  sources: SourceTrace[];
  ops: OpTrace[];
}

export interface OutputResult {
  name: string;
  columns: string[];
  /** One JSON text per row, as the CLI prints it. */
  rows: string[];
  total: number;
  final: boolean;
  /**
   * An updating stream's output (LANGUAGE.md §13): its key fields and every change as the
   * changelog format prints it (`{"op":"upsert","row":…}` / `{"op":"delete","key":…}`), at most
   * `maxRows` of them. `rows` holds the upserts, as JSONL prints them.
   */
  key?: string[];
  changes?: string[];
}

export interface RunResult {
  outputs: OutputResult[];
  summary?: RunSummary;
  /** Bad-record messages and the like (the CLI's stderr, without the summary line). */
  stderr: string;
  /** The records the run could not use, with file and line for bad input (at most 200). */
  problems: RunProblem[];
  error?: string;
  /** Rows emitted per graph node id (the instrumented build's counters). */
  counts: number[];
  trace: Trace;
  elapsedMs: number;
}

export interface Progress {
  outputs: { name: string; newRows: string[]; total: number }[];
  totalIn: number;
  elapsedMs: number;
}

const columnsOf = (schema: Schema): string[] => (schema.kind === "record" ? schema.fields.map((f) => f.name) : ["value"]);

const wmJson = (wm: number): number | null => (Number.isFinite(wm) ? wm : null);

/**
 * Runs `program` over in-memory `files` with the trace on. `onProgress` is called at most every
 * `progressMs` with the rows that arrived since the last call (so a page can show a run that is
 * later stopped).
 */
export async function runTraced(
  rt: RuntimeApi,
  program: Program,
  files: Record<string, string>,
  ops: OpInfo[],
  limits: RunLimits,
  onProgress?: (p: Progress) => void,
  progressMs = 200,
): Promise<RunResult> {
  // `<stdin>` holds the sample input of a `stdin()` source.
  const { "<stdin>": stdin, ...inputFiles } = files;
  const env = rt.createMemoryEnv({ files: inputFiles, ...(stdin !== undefined ? { stdin } : {}) });
  const started = env.now();
  const trace: Trace = {
    steps: 0,
    truncated: false,
    sources: program.sources.map((s) => ({
      name: s.name,
      timed: s.eventTime !== undefined,
      ...(s.eventTime ? { field: s.eventTime.field ?? "(computed)" } : {}),
      delay: s.eventTime?.delayMs ?? 0,
      records: [],
      watermarks: [],
    })),
    ops: ops.map((o) => ({ id: o.id, pushes: [], advances: [], emits: [], pairs: [] })),
  };
  const sourceFormat = program.sources.map((s) => rt.makeFormatter(s.schema));

  // --- outputs ---------------------------------------------------------------------------------
  const outputs: OutputResult[] = program.outputs.map((o) => ({ name: o.name, columns: columnsOf(o.schema), rows: [], total: 0, final: o.final, ...(o.key ? { key: o.key, changes: [] } : {}) }));
  const sent = outputs.map(() => 0);
  let totalIn = 0;
  let lastProgress = started;
  let tick = 0;
  const maybeProgress = () => {
    if (!onProgress || (++tick & 255) !== 0) return;
    const now = env.now();
    if (now - lastProgress < progressMs) return;
    lastProgress = now;
    onProgress({
      outputs: outputs.map((o, k) => {
        const newRows = o.rows.slice(sent[k]);
        sent[k] = o.rows.length;
        return { name: o.name, newRows, total: o.total };
      }),
      totalIn,
      elapsedMs: now - started,
    });
  };
  const onRow: Record<string, (row: unknown) => void> = {};
  program.outputs.forEach((o, k) => {
    const fmt = rt.makeFormatter(o.schema);
    const out = outputs[k]!;
    onRow[o.name] = (row) => {
      out.total++;
      if (out.rows.length < limits.maxRows) out.rows.push(fmt(row));
      maybeProgress();
    };
  });

  // The changes of updating outputs, printed as the changelog format does (a delete names the
  // key fields of the row it removes); the rows themselves still reach onRow.
  const changeLines = program.outputs.map((o, k) => {
    const out = outputs[k]!;
    if (!o.key || !out.changes) return undefined;
    const lines = rt.makeChangeFormatter(o.schema, o.key, "changelog");
    const present = new rt.PresentRows();
    return (key: unknown, r: unknown) => {
      const c = present.change(key, r);
      if (c !== undefined && out.changes!.length < limits.maxRows) out.changes!.push(lines.change(c));
    };
  });

  // --- the traced graph --------------------------------------------------------------------------
  let step = 0;
  let currentSource = -1;
  let currentRecord: TracedRecord | undefined;
  let currentPush: OpTrace["pushes"][number] | undefined;
  let inAdvance = false;
  let counts: number[] = [];
  const opTrace = new Map(trace.ops.map((o) => [o.id, o]));

  const traced: Program = {
    ...program,
    // Keep every field of every record, so the timeline shows whole records: no projection
    // pushdown (`keep`) and the generic decoders instead of the generated ones (`decode`).
    sources: program.sources.map((s) => {
      const { keep: _keep, decode: _decode, ...rest } = s as typeof s & { decode?: unknown };
      return rest;
    }),
    create(ctx: RunContext): GraphInstance {
      const change = ctx.change;
      const ctx2: RunContext = {
        emit: ctx.emit,
        ...(change && {
          change: change.map((f, k) => {
            const note = changeLines[k];
            return note === undefined ? f : (key: unknown, row: unknown) => (note(key, row), f(key, row));
          }),
        }),
        tables: ctx.tables,
        failed: ctx.failed,
        late(row, schema, operator) {
          if (currentPush) currentPush.late = true;
          if (currentRecord && !inAdvance) currentRecord.late = true;
          ctx.late(row, schema, operator);
        },
      };
      const g = program.create(ctx2) as GraphInstance & Record<string, any>;
      counts = (g.counts as number[] | undefined) ?? [];
      for (const op of ops) {
        const inst = g.operators?.[op.id] as Record<string, any> | undefined;
        const ot = opTrace.get(op.id)!;
        if (!inst) continue;
        // Interval joins: which pushed row each pair came from. Rows are records (objects), so
        // the join's `onPair(l, r)` observer tells the pair by the rows' identity.
        const pushIndex = op.interval ? new WeakMap<object, number>() : undefined;
        if (pushIndex && "onPair" in inst) {
          inst.onPair = (l: unknown, r: unknown) => {
            const li = typeof l === "object" && l ? pushIndex.get(l) : undefined;
            const ri = typeof r === "object" && r ? pushIndex.get(r) : undefined;
            if (li !== undefined && ri !== undefined && ot.pairs.length < limits.maxTrace) ot.pairs.push({ step, left: li, right: ri });
          };
        }
        const wrapPush = (method: "push" | "pushLeft" | "pushRight", side?: 0 | 1) => {
          const orig = inst[method];
          if (typeof orig !== "function") return;
          inst[method] = function (row: unknown, t: number) {
            const prev = currentPush;
            let p: OpTrace["pushes"][number] | undefined;
            if (ot.pushes.length < limits.maxTrace) {
              p = side === undefined ? { step, t } : { step, t, side };
              if (inAdvance || op.window?.kind === "session" || op.interval) p.json = safeJson(row);
              if (pushIndex && typeof row === "object" && row) pushIndex.set(row, ot.pushes.length);
              ot.pushes.push(p);
            } else trace.truncated = true;
            currentPush = p;
            try {
              return orig.call(this, row, t);
            } finally {
              currentPush = prev;
            }
          };
        };
        wrapPush("push");
        wrapPush("pushLeft", 0);
        wrapPush("pushRight", 1);
        // Outer, semi and anti interval joins take each input's watermark apart: the lane shows
        // the join's own (the smaller of the two) after each.
        for (const method of ["advanceLeft", "advanceRight"] as const) {
          const f = inst[method];
          if (typeof f !== "function") continue;
          inst[method] = function (this: { watermark?: number }, wm: number) {
            const r = f.call(this, wm);
            const now = typeof this.watermark === "number" ? this.watermark : wm;
            const last = ot.advances[ot.advances.length - 1];
            if ((!last || last.wm !== wmJson(now)) && (ot.advances.length < limits.maxTrace * 2 || now === Infinity)) ot.advances.push({ step, wm: wmJson(now) });
            return r;
          };
        }
        const adv = inst.advance;
        if (typeof adv === "function") {
          inst.advance = function (wm: number) {
            const last = ot.advances[ot.advances.length - 1];
            if (!last || last.wm !== wmJson(wm)) {
              // The last one (+∞: the inputs ended) is kept past the limit too: the timeline's
              // end then says the operator's windows all fired.
              if (ot.advances.length < limits.maxTrace * 2 || wm === Infinity) ot.advances.push({ step, wm: wmJson(wm) });
            }
            return adv.call(this, wm);
          };
        }
      }
      // Rows the operators emit, through the instrumented build's hook.
      g.onOperatorRow = (node, row, t) => {
        const ot = opTrace.get(node);
        if (ot && ot.emits.length < limits.maxTrace) ot.emits.push({ step, t, json: safeJson(row) });
      };
      return {
        push: g.push.map((p, i) => {
          const src = trace.sources[i]!;
          const fmt = sourceFormat[i]!;
          return (r: any, t: number) => {
            step++;
            totalIn++;
            currentSource = i;
            if (src.records.length < limits.maxTrace) {
              currentRecord = { step, t, json: fmt(r) };
              src.records.push(currentRecord);
            } else {
              currentRecord = undefined;
              trace.truncated = true;
            }
            p(r, t);
            maybeProgress();
          };
        }),
        advance(i: number, wm: number) {
          const src = trace.sources[i]!;
          // The end (+∞) is kept past the trace limit too, so the timeline's end says "ended".
          if (src.watermarks.length < limits.maxTrace || wm === Infinity) src.watermarks.push({ step, wm: wmJson(wm) });
          inAdvance = true;
          try {
            g.advance(i, wm);
          } finally {
            inAdvance = false;
          }
        },
        finish() {
          g.finish();
        },
      };
    },
  };
  void currentSource;

  let summary: RunSummary | undefined;
  let error: string | undefined;
  try {
    // The dead letters say which file and line each bad record came from, and tell bad input
    // (line > 0) from a record a built-in failed on (line null): the page underlines the first.
    summary = await rt.runProgram(traced, { env, onRow, summary: false, maxBadMessages: 200, deadLetter: DEAD_LETTER_PATH });
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  trace.steps = step;
  return { outputs, ...(summary ? { summary } : {}), stderr: env.stderrText(), problems: parseDeadLetters(env.output(DEAD_LETTER_PATH)), ...(error !== undefined ? { error } : {}), counts: [...counts], trace, elapsedMs: env.now() - started };
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? null : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
