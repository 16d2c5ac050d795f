// Streaming readers over byte chunks (browser-safe).
export type { BadRecord, ReadBatch } from "./batch.js";
export { textBlocks, isBlank, type TextBlock } from "./text.js";
export { readJsonl, jsonErrorMessage } from "./jsonl.js";
export { readCsv, parseCsv, CsvParser, type CsvSink } from "./csv.js";
export { readLines } from "./lines.js";
export { readJsonlFast, JsonCursor, JsonKeys, StringTable, type JsonlLineDecoder } from "./fast-jsonl.js";
export { readCsvFast, CsvCursor, CsvColumns, type CsvLineDecoder } from "./fast-csv.js";
