// CSV reader (RFC 4180): a header row, then records; cells separated by `,`; a cell may be
// quoted with `"` (a quote inside is doubled) and may then contain `,`, `"` and line breaks;
// lines end with LF or CRLF. Blank lines are skipped. A record's line number is the physical
// line where it starts.
//
// Cells come out as `Cell`s: the text, or `null` for an empty unquoted cell (see decode.ts).
//
// Speed: most lines hold no quote at all. For those the parser takes a fast path — find the
// line end with indexOf, split on "," natively — and only lines containing a `"` go through
// the character-level state machine. Input arrives in blocks of whole lines (io/text.ts), so
// only a quoted cell can span two blocks; that state is kept in `pending`.

import { DecodeError, type Cell } from "../decode.js";
import type { BadRecord, ReadBatch } from "./batch.js";
import { textBlocks } from "./text.js";

/** Receives what the parser finds. */
export interface CsvSink {
  record(cells: Cell[], line: number, raw: string): void;
  /** A malformed record (e.g. an unterminated quote): nothing to decode. */
  bad(line: number, raw: string, error: string): void;
}

interface Pending {
  cells: Cell[];
  /** The quoted cell's content read so far. */
  value: string;
  startLine: number;
  /** The record's raw text read so far. */
  raw: string;
}

const QUOTE = 34;
const COMMA = 44;
const LF = 10;
const CR = 13;

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf("\n"); i >= 0; i = s.indexOf("\n", i + 1)) n++;
  return n;
}

/** An incremental RFC 4180 parser over blocks of whole lines. */
export class CsvParser {
  /** The physical line (1-based) of the next character to parse. */
  private line = 1;
  private pending: Pending | null = null;

  /**
   * Parses `text`, a block of whole lines (the last block may lack its final line break).
   * `final` says no more text follows: a quoted cell still open is then a bad record.
   */
  parse(text: string, final: boolean, sink: CsvSink): void {
    const end = text.length;
    let pos = 0;
    if (this.pending !== null) {
      pos = this.slowRecord(text, 0, final, sink);
      if (pos < 0) return;
    }
    let quote = -1; // position of the next `"` at or after pos (end + 1 when none)
    while (pos < end) {
      let nl = text.indexOf("\n", pos);
      if (nl < 0) nl = end;
      if (quote < pos) {
        quote = text.indexOf('"', pos);
        if (quote < 0) quote = end + 1;
      }
      if (quote < nl) {
        // This record has a quote: character-level parsing (it may span several lines).
        pos = this.slowRecord(text, pos, final, sink);
        if (pos < 0) return;
        continue;
      }
      // Fast path: a line without quotes is one record.
      let stop = nl;
      if (stop > pos && text.charCodeAt(stop - 1) === CR) stop--;
      const lineNo = this.line++;
      if (stop > pos) {
        const raw = text.slice(pos, stop);
        const cells: Cell[] = raw.split(",");
        for (let i = 0; i < cells.length; i++) if (cells[i] === "") cells[i] = null;
        sink.record(cells, lineNo, raw);
      }
      pos = nl + 1;
    }
    if (final) this.finish(sink);
  }

  /** End of input: reports a record left open inside a quoted cell. */
  finish(sink: CsvSink): void {
    if (this.pending !== null) {
      const p = this.pending;
      this.pending = null;
      sink.bad(p.startLine, stripLineBreak(p.raw), "unterminated quoted cell");
    }
  }

  /**
   * Parses one record starting at `start` (or continues the pending one at 0). Returns the
   * position after the record, or -1 when the text ended inside a quoted cell (then the
   * record is saved in `pending`).
   */
  private slowRecord(text: string, start: number, final: boolean, sink: CsvSink): number {
    const end = text.length;
    let cells: Cell[];
    let startLine: number;
    let rawPrefix = "";
    let value = "";
    let inQuotes = false;
    const p = this.pending;
    if (p !== null) {
      cells = p.cells;
      startLine = p.startLine;
      rawPrefix = p.raw;
      value = p.value;
      inQuotes = true;
      this.pending = null;
    } else {
      cells = [];
      startLine = this.line;
    }
    let i = start;
    for (;;) {
      if (inQuotes) {
        const q = text.indexOf('"', i);
        if (q < 0) {
          // The text ends inside the quotes: wait for more (blocks end at line breaks).
          const piece = text.slice(i);
          this.line += countNewlines(piece);
          const raw = rawPrefix + text.slice(start);
          if (final) {
            sink.bad(startLine, stripLineBreak(raw), "unterminated quoted cell");
            return end;
          }
          this.pending = { cells, value: value + piece, startLine, raw };
          return -1;
        }
        const piece = text.slice(i, q);
        this.line += countNewlines(piece);
        value += piece;
        if (text.charCodeAt(q + 1) === QUOTE) {
          value += '"'; // a doubled quote
          i = q + 2;
          continue;
        }
        // The closing quote: what follows must end the cell.
        cells.push(value);
        value = "";
        inQuotes = false;
        i = q + 1;
        const c = text.charCodeAt(i);
        if (c === COMMA) {
          i++;
        } else if (i >= end || c === LF || (c === CR && (i + 1 >= end || text.charCodeAt(i + 1) === LF))) {
          return this.endRecord(text, start, i, rawPrefix, cells, startLine, sink);
        } else {
          // `"abc"x`: skip the rest of the physical line and report the record.
          let nl = text.indexOf("\n", i);
          if (nl < 0) nl = end;
          this.line++;
          const raw = rawPrefix + text.slice(start, nl);
          sink.bad(startLine, stripLineBreak(raw), `malformed CSV: text after the closing quote of cell ${cells.length}`);
          return nl + 1;
        }
        continue;
      }
      // At the start of a cell.
      if (text.charCodeAt(i) === QUOTE) {
        inQuotes = true;
        i++;
        continue;
      }
      // An unquoted cell runs to the next comma or line break (a `"` inside it is literal).
      let j = i;
      while (j < end) {
        const c = text.charCodeAt(j);
        if (c === COMMA || c === LF) break;
        j++;
      }
      let stop = j;
      if ((j >= end || text.charCodeAt(j) === LF) && stop > i && text.charCodeAt(stop - 1) === CR) stop--;
      cells.push(stop > i ? text.slice(i, stop) : null);
      if (j < end && text.charCodeAt(j) === COMMA) {
        i = j + 1;
        continue;
      }
      return this.endRecord(text, start, j, rawPrefix, cells, startLine, sink);
    }
  }

  /** The record ends at `at`: a LF, the CR of a CRLF, or the end of the text. */
  private endRecord(text: string, start: number, at: number, rawPrefix: string, cells: Cell[], startLine: number, sink: CsvSink): number {
    let next = at;
    if (text.charCodeAt(next) === CR) next++;
    if (text.charCodeAt(next) === LF) {
      next++;
      this.line++;
    }
    // After an unquoted last cell `at` is the LF (or the end): leave the CR of CRLF out of raw.
    let stop = at;
    if (stop > start && text.charCodeAt(stop - 1) === CR && (at >= text.length || text.charCodeAt(at) === LF)) stop--;
    sink.record(cells, startLine, rawPrefix + text.slice(start, stop));
    return next;
  }
}

function stripLineBreak(s: string): string {
  if (s.endsWith("\r\n")) return s.slice(0, -2);
  if (s.endsWith("\n") || s.endsWith("\r")) return s.slice(0, -1);
  return s;
}

/** Parses a whole CSV text into records (for tests and small inputs). */
export function parseCsv(text: string): { cells: Cell[]; line: number; raw: string }[] {
  const out: { cells: Cell[]; line: number; raw: string }[] = [];
  const parser = new CsvParser();
  parser.parse(text, true, {
    record: (cells, line, raw) => out.push({ cells, line, raw }),
    bad: (line, raw, error) => {
      throw new DecodeError(`line ${line}: ${error} (${raw})`);
    },
  });
  return out;
}

/**
 * Reads CSV from a byte stream: the first non-blank record is the header; `makeRowDecoder`
 * gets it and returns the decoder for the following rows (see makeCsvDecoder), which throws
 * `DecodeError` for a bad row. Yields a batch of decoded records per chunk.
 */
export async function* readCsv(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  makeRowDecoder: (header: string[]) => (cells: Cell[]) => unknown,
): AsyncGenerator<ReadBatch> {
  const parser = new CsvParser();
  let decode: ((cells: Cell[]) => unknown) | undefined;
  let records: unknown[] = [];
  let bad: BadRecord[] | undefined;
  const sink: CsvSink = {
    record(cells, line, raw) {
      if (decode === undefined) {
        decode = makeRowDecoder(cells.map((c) => c ?? ""));
        return;
      }
      try {
        records.push(decode(cells));
      } catch (e) {
        if (!(e instanceof DecodeError)) throw e;
        (bad ??= []).push({ line, raw, error: e.message, index: records.length });
      }
    },
    bad(line, raw, error) {
      (bad ??= []).push({ line, raw, error, index: records.length });
    },
  };
  let bytes = 0;
  for await (const block of textBlocks(chunks)) {
    bytes = block.bytes;
    parser.parse(block.text, false, sink);
    yield bad ? { records, bad, bytes } : { records, bytes };
    records = [];
    bad = undefined;
  }
  parser.finish(sink);
  if (bad) yield { records, bad, bytes };
}
