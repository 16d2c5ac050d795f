// JSON Lines reader: one JSON value per line; blank lines are skipped; a line that is not JSON
// or does not decode to the source type is a bad record (with its 1-based line number and text).

import { DecodeError } from "../decode.js";
import type { BadRecord, ReadBatch } from "./batch.js";
import { SKIPPED } from "./changes.js";
import { isBlank, textBlocks } from "./text.js";

/** A reason for a line that JSON.parse rejected, without V8's echo of the line itself. */
export function jsonErrorMessage(e: unknown): string {
  let m = e instanceof Error ? e.message : String(e);
  // V8: `Unexpected token 'h', "this is not json" is not valid JSON` — the text is in `raw` already.
  const echo = m.match(/^(.*?), ".*" is not valid JSON$/s);
  if (echo) m = echo[1]!;
  return "invalid JSON: " + m;
}

/**
 * Reads JSONL from a byte stream, yielding a batch of decoded records per chunk.
 * `decode` turns a parsed value into a record (or SKIPPED: nothing to process) or throws
 * `DecodeError`.
 */
export async function* readJsonl(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  decode: (value: unknown) => unknown,
): AsyncGenerator<ReadBatch> {
  let line = 0;
  for await (const { text, bytes } of textBlocks(chunks)) {
    const records: unknown[] = [];
    let bad: BadRecord[] | undefined;
    const end = text.length;
    let pos = 0;
    while (pos < end) {
      let nl = text.indexOf("\n", pos);
      if (nl < 0) nl = end;
      let stop = nl;
      if (stop > pos && text.charCodeAt(stop - 1) === 13) stop--; // CRLF
      line++;
      if (stop > pos) {
        const raw = text.slice(pos, stop);
        let value: unknown;
        let parsed = false;
        try {
          value = JSON.parse(raw);
          parsed = true;
          const r = decode(value);
          if (r !== SKIPPED) records.push(r);
        } catch (e) {
          if (!parsed) {
            if (!isBlank(raw)) (bad ??= []).push({ line, raw, error: jsonErrorMessage(e), index: records.length });
          } else if (e instanceof DecodeError) {
            (bad ??= []).push({ line, raw, error: e.message, index: records.length });
          } else {
            throw e;
          }
        }
      }
      pos = nl + 1;
    }
    yield bad ? { records, bad, bytes } : { records, bytes };
  }
}
