// Splitting a byte stream into text blocks made of whole lines.

/** A block of decoded text that ends right after a `\n` — except the last block of a stream. */
export interface TextBlock {
  text: string;
  /** Bytes consumed from the stream so far, this block included. */
  bytes: number;
}

const LF = 10;

/** One array holding `parts` followed by `last`. */
function concat(parts: Uint8Array[], length: number, last?: Uint8Array): Uint8Array {
  const out = new Uint8Array(length + (last?.length ?? 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (last) out.set(last, at);
  return out;
}

/**
 * Decodes a UTF-8 byte stream and yields it in blocks of whole lines, one block per input chunk
 * that completes at least one line (so a batch never waits for more input than one chunk).
 *
 * Chunks are cut at their last `\n` byte — always a character boundary in UTF-8 — and each
 * whole-line range is decoded in one non-streaming `TextDecoder.decode` call: Node's fast
 * (SIMD) UTF-8 path is switched off for good once a decoder is used with `{ stream: true }`.
 * The bytes after the last `\n` are carried over (copied: the producer may reuse its buffer).
 * A UTF-8 byte order mark at the start is dropped; invalid UTF-8 becomes U+FFFD. The last
 * block may lack a final `\n`.
 */
export async function* textBlocks(chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<TextBlock> {
  // ignoreBOM: a BOM is only meaningful at the very start (handled below), not at each decode.
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  let carry: Uint8Array[] = []; // the bytes of a line whose end has not been read yet
  let carryLength = 0;
  let bytes = 0;
  let atStart = true;
  const firstBlock = (text: string): string => {
    atStart = false;
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  };

  for await (const chunk of chunks) {
    bytes += chunk.byteLength;
    const last = chunk.lastIndexOf(LF);
    if (last < 0) {
      carry.push(new Uint8Array(chunk)); // a copy (Buffer#slice would be a view)
      carryLength += chunk.byteLength;
      continue;
    }
    let text: string;
    if (carryLength === 0) {
      text = decoder.decode(chunk.subarray(0, last + 1));
    } else {
      // The carried line ends at this chunk's first `\n`: decode it on its own (a small copy),
      // then the rest of the whole lines straight from the chunk.
      const first = chunk.indexOf(LF);
      text = decoder.decode(concat(carry, carryLength, chunk.subarray(0, first + 1)));
      if (first < last) text += decoder.decode(chunk.subarray(first + 1, last + 1));
      carry = [];
      carryLength = 0;
    }
    if (last + 1 < chunk.byteLength) {
      carry.push(new Uint8Array(chunk.subarray(last + 1)));
      carryLength = chunk.byteLength - last - 1;
    }
    yield { text: atStart ? firstBlock(text) : text, bytes };
  }
  if (carryLength > 0) {
    const text = decoder.decode(concat(carry, carryLength));
    yield { text: atStart ? firstBlock(text) : text, bytes };
  }
}

/** True when `s` is empty or only spaces, tabs and line breaks. */
export function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13 && c !== 10) return false;
  }
  return true;
}
