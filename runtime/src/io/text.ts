// Splitting a byte stream into text blocks made of whole lines.

/** A block of decoded text that ends right after a `\n` — except the last block of a stream. */
export interface TextBlock {
  text: string;
  /** Bytes consumed from the stream so far, this block included. */
  bytes: number;
}

/**
 * Decodes a UTF-8 byte stream and yields it in blocks of whole lines, one block per input chunk
 * that completes at least one line (so a batch never waits for more input than one chunk).
 * A line cut across chunks is carried over — at the text level, so a multi-byte character split
 * across chunks is handled by the streaming TextDecoder. A UTF-8 byte order mark is dropped;
 * invalid UTF-8 becomes U+FFFD. The last block may lack a final `\n`.
 */
export async function* textBlocks(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<TextBlock> {
  const decoder = new TextDecoder("utf-8");
  let carry = ""; // the start of a line whose end has not been read yet
  let bytes = 0;
  for await (const chunk of chunks) {
    bytes += chunk.byteLength;
    const s = decoder.decode(chunk, { stream: true });
    const nl = s.lastIndexOf("\n");
    if (nl < 0) {
      carry += s;
      continue;
    }
    const text = nl === s.length - 1 ? carry + s : carry + s.slice(0, nl + 1);
    carry = nl === s.length - 1 ? "" : s.slice(nl + 1);
    yield { text, bytes };
  }
  const tail = carry + decoder.decode();
  if (tail !== "") yield { text: tail, bytes };
}

/** True when `s` is empty or only spaces, tabs and line breaks. */
export function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}
