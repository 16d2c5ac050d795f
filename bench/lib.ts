// Bench helpers bundled by bench/run.mjs (esbuild) so plain `node` can use the TypeScript stdlib.
import { createWriteStream } from "node:fs";
import { nexmarkBatches, NEXMARK_DEFAULTS } from "../stdlib/src/nexmark.js";
import { formatTime } from "../runtime/src/time.js";

export { nexmarkBatches, NEXMARK_DEFAULTS };

/** Writes `n` NEXMark-like bids (≈136 bytes a line) as JSONL or CSV. */
export async function writeBids(path: string, n: number, format: "jsonl" | "csv"): Promise<void> {
  const out = createWriteStream(path);
  let buf = format === "csv" ? "auction,bidder,price,channel,dateTime,extra\n" : "";
  let written = 0;
  const events = Math.ceil((n * 50) / 46) + 50;
  outer: for (const batch of nexmarkBatches({ eventKind: "bid", events, ...NEXMARK_DEFAULTS })) {
    for (const b of batch) {
      if (written === n) break outer;
      written++;
      const extra = b.extra.slice(0, 20);
      buf +=
        format === "csv"
          ? `${b.auction},${b.bidder},${b.price},${b.channel},${formatTime(b.dateTime)},${extra}\n`
          : `{"auction":${b.auction},"bidder":${b.bidder},"price":${b.price},"channel":"${b.channel}","dateTime":"${formatTime(b.dateTime)}","extra":"${extra}"}\n`;
      if (buf.length > 1 << 20) {
        if (!out.write(buf)) await new Promise<void>((r) => out.once("drain", () => r()));
        buf = "";
      }
    }
  }
  out.write(buf);
  await new Promise<void>((r) => out.end(() => r()));
}

export { createMemoryEnv } from "../runtime/src/env.js";
import { createNodeEnv, loadNodeModules } from "../runtime/src/node.js";
/** The Node environment (files, stdio) for running built programs in-process. */
export async function nodeEnv() {
  await loadNodeModules();
  return createNodeEnv();
}

export { fileCheckpointStorage } from "../runtime/src/checkpoint/node-storage.js";
