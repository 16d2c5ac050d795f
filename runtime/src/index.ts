// The flowc runtime's public, browser-safe entry point. Node-specific code (fs, stdio, the
// command line of a built program) is in node.ts: `import { runMain } from ".../runtime/src/node.js"`.

export type {
  ConnectorSpec,
  FieldSchema,
  Format,
  GraphInstance,
  OutputSpec,
  Program,
  ProgramLoops,
  PullState,
  RecordSchema,
  RunContext,
  Schema,
  SourceSpec,
  SourceDecoders,
  TableSpec,
} from "./contract.js";

export {
  runProgram,
  registerNexmark,
  setDefaultEnv,
  summaryLine,
  schemaAccepts,
  RunError,
  StrictInputError,
  InputError,
  OutputError,
  UsageError,
  type RunOptions,
  type RunSummary,
  type NexmarkConnector,
  type NexmarkFactory,
  type NexmarkProvider,
  type NexmarkParams,
} from "./driver.js";
export { createMemoryEnv, joinPath, type ByteSource, type Env, type MemoryEnv, type MemoryEnvInit, type OutputSink } from "./env.js";
export { DecodeError, makeDecoder, makeCsvDecoder, makeLineDecoder, typeName, showValue, type Cell } from "./decode.js";
export { makeFormatter, makeCsvFormatter, makeLineFormatter, makeChangeFormatter, csvQuote, PresentRows, type CsvFormatter, type RowChange } from "./format.js";
export { parseTime, parseTimeText, parseIsoTime, formatTime, daysFromCivil, MAX_TIME } from "./time.js";
export * from "./io/index.js";
export { streamProgram, type ProgramStreams } from "./streams.js";
export { memoryCheckpointStorage, parseCheckpoint, parseCheckpointBytes, serializeCheckpoint, serializeCheckpointBytes, CheckpointError, type CheckpointDoc, type CheckpointOptions, type CheckpointStorage, type SavedSource } from "./checkpoint/run.js";
export { describeCheckpoint, describeCheckpointJson } from "./checkpoint/inspect.js";
export { ClassTable, decode as decodeState, encode as encodeState } from "./checkpoint/codec.js";
