// `lines` reader: each line of the input (without `\n` or `\r\n`) is one value.
// Empty lines are values too (""), except that a final line break does not start another line.

import { DecodeError } from "../decode.js";
import type { BadRecord, ReadBatch } from "./batch.js";
import { textBlocks } from "./text.js";

/**
 * Reads lines from a byte stream, yielding a batch per chunk. Without `decode` each line is a
 * string; with it (see makeLineDecoder) the line's text is converted and may be bad.
 */
export async function* readLines(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  decode?: (line: string) => unknown,
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
      if (stop > pos && text.charCodeAt(stop - 1) === 13) stop--;
      line++;
      // Note: V8 makes `slice` a view that keeps the whole block alive while the line lives;
      // stateful programs holding millions of short-lived slices should not notice, but a program
      // keeping a few lines from every block retains those blocks.
      const raw = text.slice(pos, stop);
      if (decode === undefined) {
        records.push(raw);
      } else {
        try {
          records.push(decode(raw));
        } catch (e) {
          if (!(e instanceof DecodeError)) throw e;
          (bad ??= []).push({ line, raw, error: e.message, index: records.length });
        }
      }
      pos = nl + 1;
    }
    yield bad ? { records, bad, bytes } : { records, bytes };
  }
}
