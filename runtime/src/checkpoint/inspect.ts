// `flowc checkpoint inspect DIR` (LANGUAGE.md §12): what a checkpoint holds, as text — when it
// was taken, the sources and their positions (broker sources: per partition) and watermarks, the
// outputs' lengths, the network outputs' last rows delivered, the counters and each stateful
// operator's state size: entries (as `flowc_state_entries` counts them: keys × open windows) and
// bytes of its part of the encoded state. As text, or as JSON (`--format json`).

import { columnLength } from "./codec.js";
import { checkpointBlobs, type CheckpointDoc, type SavedSource } from "./run.js";

/**
 * Entries in an encoded state value (codec.ts's encoding), counted as run/state-size.ts counts
 * them in a running graph: the leaves of Maps, Sets and arrays, a record of scalars one entry, a
 * stateful node its largest member. Read from the encoding itself: the program's classes are not
 * needed.
 */
function encodedEntries(v: unknown, blobs: readonly Uint8Array[] | undefined, depth = 0): number {
  if (v === null || typeof v !== "object" || depth > 8) return 0;
  const each = (items: readonly unknown[]) => items.reduce<number>((n, x) => n + Math.max(1, encodedEntries(x, blobs, depth + 1)), 0);
  if (Array.isArray(v)) return each(v);
  const t = v as { $?: unknown; v?: unknown; k?: unknown };
  switch (t.$) {
    case "M":
      return Array.isArray(t.v) ? each(t.v.filter((_, i) => i % 2 === 1)) : 0;
    case "S":
      return Array.isArray(t.v) ? each(t.v) : 0;
    case "MC":
      return columnLength(t.k, blobs) ?? 0;
    case "N":
      return columnLength(t.v, blobs) ?? 0;
    case "T": {
      // A slot store's column (packed in chunks): one value per key. Other typed arrays are a
      // store's columns by small key: their length is a capacity, not entries.
      const chunks = (t as { c?: unknown }).c;
      return Array.isArray(chunks) ? chunks.reduce<number>((n, c) => n + (columnLength(c, blobs) ?? 0), 0) : 0;
    }
    case "o":
    case "c": {
      const fields = (t.v ?? {}) as Record<string, unknown>;
      // A slot store (SlotColumns.checkpoint) says how many keys it holds, small ones too.
      const chunked = (f: unknown) => Array.isArray((f as { c?: unknown } | undefined)?.c);
      if (t.$ === "o" && typeof fields.distinct === "number" && (chunked(fields.keys) || chunked(fields.lengths))) return fields.distinct;
      return Object.keys(fields).reduce((n, k) => n + encodedEntries(fields[k], blobs, depth + 1), 0);
    }
    default:
      return 0; // numbers spelled out, references
  }
}

/** Bytes of the binary part (blobs) an encoded value refers to. */
function blobBytes(v: unknown, lengths: readonly number[]): number {
  if (v === null || typeof v !== "object") return 0;
  let n = typeof (v as { b?: unknown }).b === "number" ? (lengths[(v as { b: number }).b] ?? 0) : 0;
  for (const x of Array.isArray(v) ? v : Object.values(v)) n += blobBytes(x, lengths);
  return n;
}

/** A stateful node's entries: its largest member (a keyed store's Map and order array hold the same keys). */
function nodeEntries(part: unknown, blobs: readonly Uint8Array[] | undefined): number {
  const members = (part as { $?: unknown; v?: unknown } | null)?.v;
  if (members === null || typeof members !== "object") return encodedEntries(part, blobs);
  return Math.max(0, ...Object.values(members as Record<string, unknown>).map((m) => encodedEntries(m, blobs)));
}

/** The state of each stateful operator: where, kind, entries, bytes. */
function operators(doc: CheckpointDoc): { operator: string; kind: string; entries: number; bytes: number }[] {
  const parts = Array.isArray(doc.state) ? (doc.state as unknown[]) : [];
  const blobs = checkpointBlobs(doc);
  const lengths = doc.blobs ?? [];
  return doc.fingerprint.operators.map((op, i) => ({ operator: `${doc.program}:${op.line}`, kind: op.kind, entries: nodeEntries(parts[i], blobs), bytes: JSON.stringify(parts[i] ?? null).length + blobBytes(parts[i], lengths) }));
}

const iso = (ms: number | null): string => {
  if (ms === null) return "none yet";
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
};

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

const table = (rows: string[][]): string[] => {
  const widths = rows.reduce<number[]>((w, r) => r.map((c, i) => Math.max(w[i] ?? 0, c.length)), []);
  return rows.map((r) => "  " + r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd());
};

/** Where a source is: a file's byte, the next item, a broker's places per partition. */
function place(s: SavedSource, print: string): string {
  switch (s.kind) {
    case "file":
      return `byte ${s.offset} (line ${(s.line ?? 0) + 1})${s.skip > 0 ? ` + ${s.skip} record${s.skip === 1 ? "" : "s"}` : ""}`;
    case "items":
      return `next item ${s.skip}`;
    case "live":
      return "live (cannot replay: read on from what comes next)";
    case "broker": {
      // The connector's kind, from the fingerprint's `source NAME = KIND …`.
      const kind = /^source \S+ = (\w+)/.exec(print)?.[1] ?? "broker";
      const what = kind === "kafka" ? "offset" : kind === "nats" ? "stream sequence" : kind === "redis" ? "entry" : "message";
      const parts = (s.partitions ?? []).map((x) => `${x.p >= 0 ? `partition ${x.p} ` : ""}${x.after !== undefined ? `after ${what} ${x.after}` : `at ${what} ${x.at}`}`);
      return `${kind}: ${parts.length > 0 ? parts.join(", ") : "nothing read yet"}`;
    }
  }
}

/** The text `flowc checkpoint inspect` prints for checkpoint `doc` found in `where`. */
export function describeCheckpoint(doc: CheckpointDoc, where: string): string {
  const out: string[] = [];
  out.push(`checkpoint in ${where}: ${doc.program}, run ${doc.runId}, checkpoint ${doc.seq}, taken ${iso(doc.time)}${doc.finished ? ", finished (the run completed)" : ""}`);
  out.push("sources:");
  out.push(
    ...table(
      doc.sources.map((s, i) => [
        s.name,
        place(s, doc.fingerprint.sources[i] ?? ""),
        `${s.count} read`,
        `watermark ${s.ended ? "+∞ (input ended)" : iso(s.watermark)}${s.idle?.since != null ? ` (idle since ${iso(s.idle.since)})` : ""}`,
      ]),
    ),
  );
  if (doc.sinks.length > 0) {
    out.push("output files:");
    out.push(...table(doc.sinks.map((s) => [s.path, `${s.bytes} bytes`])));
  }
  // Network outputs (§12): the last row delivered, per Kafka partition or the one subject/stream.
  const network = (doc.network ?? []).filter((n) => n.places.length > 0);
  if (network.length > 0) {
    out.push("network outputs (last row delivered):");
    out.push(...table(network.map((n) => [n.output, n.places.map(([p, row]) => (p === "" ? `row ${row}` : `partition ${p} row ${row}`)).join(", ") + (n.layout === undefined ? "" : ` (${n.layout})`)])));
  }
  const outs = Object.entries(doc.counters.out).map(([k, v]) => `${k} ${v}`).join(", ");
  out.push(`rows out: ${outs || "none"}; late ${doc.counters.late}; bad ${doc.counters.bad}`);
  const parts = Array.isArray(doc.state) ? doc.state : [];
  out.push("state:");
  const ops = doc.fingerprint.operators;
  if (ops.length === 0) out.push("  (no stateful operators)");
  out.push(...table(operators(doc).map((o) => [o.operator, o.kind, `${o.entries.toLocaleString("en")} ${o.entries === 1 ? "entry" : "entries"}`, size(o.bytes)])));
  return out.join("\n");
}

/** `flowc checkpoint inspect --format json`: the same as data. */
export function describeCheckpointJson(doc: CheckpointDoc, where: string): unknown {
  return {
    where,
    program: doc.program,
    runId: doc.runId,
    checkpoint: doc.seq,
    taken: iso(doc.time),
    finished: doc.finished,
    sources: doc.sources.map((s, i) => ({
      name: s.name,
      kind: s.kind,
      position: place(s, doc.fingerprint.sources[i] ?? ""),
      ...(s.kind === "file" ? { offset: s.offset ?? 0, line: (s.line ?? 0) + 1, skip: s.skip } : s.kind === "items" ? { next: s.skip } : {}),
      ...(s.partitions !== undefined ? { partitions: s.partitions } : {}),
      read: s.count,
      watermark: s.ended ? "+Infinity" : s.watermark === null ? null : iso(s.watermark),
      ...(s.idle !== undefined ? { idleSince: s.idle.since === null ? null : iso(s.idle.since) } : {}),
    })),
    outputFiles: doc.sinks,
    networkOutputs: doc.network ?? [],
    counters: doc.counters,
    state: operators(doc),
  };
}
