// What a run is given (RunOptions) and what it reports (RunSummary). Types only.

import type { ConnectorSpec, OutputFormat, Schema } from "../contract.js";
import type { Env } from "../env.js";
import type { CheckpointOptions } from "../checkpoint/storage.js";

export type NexmarkConnector = Extract<ConnectorSpec, { kind: "nexmark" }>;
/** Makes the records of a `nexmark(...)` source (each one is decoded and validated). */
export type NexmarkFactory = (spec: NexmarkConnector) => Iterable<unknown> | AsyncIterable<unknown>;
/** What a `nexmark(...)` generator is asked for: the connector's parameters. */
export type NexmarkParams = Omit<NexmarkConnector, "kind">;
/**
 * A `nexmark(...)` generator that knows the type of its records (the stdlib's
 * `nexmarkGenerator`, stdlib/src/nexmark.ts): when the source's declared type accepts them as
 * they are, its arrays are pushed without validation.
 */
export interface NexmarkProvider {
  readonly schemas: { readonly [K in NexmarkConnector["eventKind"]]: Schema };
  /** The records one by one (decoded like JavaScript values). */
  events(spec: NexmarkParams): Iterable<unknown>;
  /** The same records in arrays (trusted). */
  batches(spec: NexmarkParams): Iterable<unknown[]>;
}

export interface RunOptions {
  /** Folder that relative connector paths resolve against (the .flow file's folder). Default ".". */
  baseDir?: string;
  /** Files, stdio and clock. Default: the Node environment (node.ts) when running on Node. */
  env?: Env;
  /** Replaces the connector of a source (or table) by name with these values, decoded and
   *  validated like JSON values (times as ISO strings or epoch ms). For embedding. */
  sourceOverrides?: Record<string, AsyncIterable<unknown> | Iterable<unknown>>;
  /** Writes an output to this file instead of its connector (CLI `--out NAME=PATH`). The format
   *  follows the extension (.csv, .jsonl/.ndjson), else the output's own format. */
  outOverrides?: Record<string, string>;
  /** The format of outputs printed on stdout without a format of their own (CLI `--format`):
   *  `changelog` / `debezium` print every change of an updating stream (§13). */
  stdoutFormat?: OutputFormat;
  /** Hands an output's rows to a callback instead of writing them (nothing is printed for it). */
  onRow?: Record<string, (row: unknown) => void>;
  /**
   * Called once the run's sources are open with a probe of its metrics and health (§10): what
   * `--metrics HOST:PORT` serves (node.ts runs the HTTP server).
   */
  metrics?: (probe: MetricsProbe) => void;
  /** Dead-letter file: one JSON line per bad input record (CLI `--dead-letter F`). */
  deadLetter?: string;
  /** Late-record file: each record dropped as late, as its JSON (CLI `--late F`). */
  lateFile?: string;
  /** Stop at the first bad input record with a `StrictInputError` (CLI `--strict`, exit 65). */
  strict?: boolean;
  /** Write the run summary to stderr (default true). */
  summary?: boolean;
  /** Show a progress line on stderr (default: when stderr is a terminal and summary is on). */
  progress?: boolean;
  /** Bad-record messages printed before "... N more bad records" (default 100). */
  maxBadMessages?: number;
  /** Generator for `nexmark(...)` sources (default: the one registered with registerNexmark —
   *  on Node, node.ts registers the stdlib's; without one such a source fails with InputError). */
  nexmark?: NexmarkFactory | NexmarkProvider;
  /** Aborting ends the input early: the run then finishes as if every source had ended
   *  (windows fire, `emit final` outputs are written). */
  signal?: AbortSignal;
  /** Files the run must never write (absolute paths), with what they are — e.g. the .flow file
   *  itself (`flowc run`). Outputs naming one of these, or an input, are refused (UsageError). */
  protectedPaths?: readonly { path: string; what: string }[];
  /** How long a network sink retries a failed delivery before the run stops with exit 73
   *  (CLI `--sink-retry D`, LANGUAGE.md §12; default 60 s). */
  sinkRetryMs?: number;
  /**
   * Make the run resumable (LANGUAGE.md §12, CLI `--checkpoint DIR`): checkpoints go to
   * `storage` every `everyMs` of wall time and when the run stops or completes; a checkpoint
   * there is restored first. With it, `signal` stops the run at a checkpoint (open windows do
   * not fire) instead of ending its input.
   */
  checkpoint?: CheckpointOptions;
}

export interface RunSummary {
  /** Valid records read, per source name. */
  in: Record<string, number>;
  /** Rows that reached each output, per output name. */
  out: Record<string, number>;
  totalIn: number;
  totalOut: number;
  late: number;
  bad: number;
  elapsedMs: number;
  eventsPerSec: number;
  /** The run was stopped early by `signal` (SIGINT/SIGTERM): its inputs were cut short. */
  interrupted?: boolean;
  /** Network connections that were down when the run ended: `label (reason)` (§10). */
  connectionsDown?: string[];
  /** With `checkpoint`: where, how many were written, whether the run continued one, stopped at
   *  one (suspended), or found its lineage finished (nothing was done); how long the last one
   *  took to write (`lastMs`, from its cut to durable) and its size, and how long the restore
   *  took (reading, checking and putting back the state). Of the checkpoints written while the
   *  run went on (not at its end or stop): the longest the record loop waited for one
   *  (`stallMs`: its cut and its steps) and the longest one took to write (`liveWriteMs`). */
  checkpoint?: { where: string; written: number; restored: boolean; suspended: boolean; finished?: boolean; lastMs?: number; lastBytes?: number; restoreMs?: number; stallMs?: number; liveWriteMs?: number };
}

/** What a metrics server reads, at any moment of a run (run/metrics.ts makes it). */
export interface MetricsProbe {
  /** The metrics in Prometheus text format (version 0.0.4). */
  text(): string;
  /** Every connection up (200), or the connections that are down (503). */
  health(): { ok: boolean; down: string[] };
}
