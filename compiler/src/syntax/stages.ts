// The pipeline stages, as people write them: the one list the parser's messages, the
// playground's completion and its highlighting read.

export interface StageWord {
  /** How the stage is written (`group by`, `left join`). */
  written: string;
  /** What it does, in one line (completion info). */
  doc: string;
}

export const STAGES: readonly StageWord[] = [
  { written: "where", doc: "keep records where the condition is true" },
  { written: "select", doc: "a new record: `expr`, `name = expr`, `*`, `alias.*`" },
  { written: "extend", doc: "keep all fields, add or replace some: `name = expr`; rolling: `avg(v) over 5m`, `lag(v)`" },
  { written: "map", doc: "the element becomes the expression (`it` is the element)" },
  { written: "unnest", doc: "one record per element of an array field" },
  { written: "window", doc: "tumbling(SIZE) / hop(SIZE, SLIDE) / session(GAP) for the next stateful stage" },
  { written: "group by", doc: "key the stream for the next agg, top, distinct or rolling extend" },
  { written: "agg", doc: "aggregate per key (and window): `name = count()`" },
  { written: "top", doc: "the first N records per window: `top N by EXPR [desc]`" },
  { written: "distinct", doc: "drop repeats: `distinct [EXPR] [within D]`" },
  { written: "join", doc: "pair two streams: `[left|right|full|semi|anti] join OTHER [as a] on COND [within A .. B]`" },
  { written: "lookup", doc: "enrich from a table by its key: `lookup TABLE [as t] on EXPR`" },
];

/** The first word of every stage: what may follow `|`. */
export const STAGE_KEYWORDS: readonly string[] = STAGES.map((s) => s.written.split(" ")[0]!);

/** "where, select, …, lookup": the stages, for messages. */
export const STAGE_LIST = STAGES.map((s) => s.written).join(", ");
