// `flowc checkpoint inspect DIR` (LANGUAGE.md §12): what a checkpoint holds, as text — when it
// was taken, the sources and their positions (broker sources: per partition) and watermarks, the
// outputs' lengths, the network outputs' last rows delivered, the counters
// and each stateful operator's state size (bytes of its part of the encoded state).

import type { CheckpointDoc, SavedSource } from "./run.js";

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
  out.push(...table(ops.map((op, i) => [`${doc.program}:${op.line}`, op.kind, size(JSON.stringify(parts[i] ?? null).length)])));
  return out.join("\n");
}
