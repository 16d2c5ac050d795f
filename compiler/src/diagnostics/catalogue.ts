// The diagnostic catalogue: every code the compiler can report, its severity, the typed
// parameters it takes and its message. Phases create diagnostics only through `diag()`, so a
// message is written once and the playground, the CLI and JSON output all agree.

/** UTF-16 offsets into the source; the same shape as the syntax tree's `Span` (diagnostics come
 * first in the phase order, so they do not import the syntax tree). */
export interface Span {
  start: number;
  end: number;
}

export type Severity = "error" | "warning";

export interface Diagnostic {
  code: string;
  severity: Severity;
  message: string;
  span: Span;
  /** Text printed under the caret line. */
  label?: string;
  /** Secondary notes, each optionally pointing somewhere else. */
  notes: { message: string; span?: Span }[];
  /** The fix, in words. */
  hint?: string;
}

type Entry<P> = { severity: Severity; message: (p: P) => string };
const entry = <P = Record<string, never>>(severity: Severity, message: (p: P) => string): Entry<P> => ({ severity, message });
const q = (s: string) => `\`${s}\``;

export const catalogue = {
  // ---- syntax: E00xx
  E0001: entry<{ text: string }>("error", (p) => p.text),
  E0002: entry("error", () => "unterminated string"),
  E0003: entry<{ word: string }>("error", (p) => `unknown stage ${q(p.word)}`),
  E0004: entry("error", () => "`=` is assignment; comparison is `==`"),
  E0005: entry<{ stage: string }>("error", (p) => `missing \`|\` before ${q(p.stage)}`),
  E0006: entry<{ word: string }>("error", (p) => `${q(p.word)} is a keyword and cannot be used as a name here`),
  E0007: entry<{ escape: string }>("error", (p) => `unknown escape ${q(p.escape)} in string`),
  E0008: entry<{ literal: string }>("error", (p) => `the number ${p.literal} is not a safe integer`),
  E0009: entry<{ literal: string }>("error", (p) => `invalid time literal ${q(p.literal)}`),
  E0010: entry<{ what: string }>("error", (p) => `the program is too large to parse: ${p.what}`),
  E0011: entry<{ expected: string; after: string }>("error", (p) => `expected ${p.expected} after ${q(p.after)}`),
  E0012: entry<{ op: string; word: string }>("error", (p) => `${q(p.op)} is not an operator in Flow; write ${q(p.word)}`),
  E0013: entry("error", () => "strings use double quotes, not single quotes"),
  E0014: entry<{ name: string }>("error", (p) => `\`${p.name}(*)\` is SQL; in Flow write \`${p.name}()\``),
  E0015: entry<{ what: string; name: string }>("error", (p) => `the ${p.what} ${q(p.name)} needs a type`),

  // ---- names: E01xx
  E0101: entry<{ name: string }>("error", (p) => `unknown stream ${q(p.name)}`),
  E0102: entry<{ name: string }>("error", (p) => `unknown type ${q(p.name)}`),
  E0103: entry<{ name: string; what: string }>("error", (p) => `${p.what} ${q(p.name)} is declared twice`),
  E0104: entry<{ name: string }>("error", (p) => `unknown function ${q(p.name)}`),
  E0105: entry<{ name: string }>("error", (p) => `unknown table ${q(p.name)}`),
  E0106: entry<{ name: string }>("error", (p) => `unknown name ${q(p.name)}`),
  E0107: entry<{ name: string }>("error", (p) => `field ${q(p.name)} appears twice`),
  E0108: entry<{ name: string }>("error", (p) => `two select items are named ${q(p.name)}`),
  E0109: entry<{ name: string }>("error", (p) => `unknown connector ${q(p.name)}`),
  E0110: entry<{ name: string }>("error", (p) => `function ${q(p.name)} calls itself; functions cannot be recursive`),
  E0111: entry<{ name: string }>("error", (p) => `stream ${q(p.name)} depends on itself`),
  E0112: entry<{ name: string; from: string }>("error", (p) => `${q(p.from)} has no export ${q(p.name)} usable from Flow`),
  E0113: entry<{ name: string }>("error", (p) => `type ${q(p.name)} refers to itself`),

  // ---- fields and types: E02xx
  E0201: entry<{ field: string; type: string }>("error", (p) => `unknown field ${q(p.field)} on ${p.type}`),
  E0202: entry<{ expected: string; actual: string; what: string }>("error", (p) => `${p.what}: expected ${p.expected}, found ${p.actual}`),
  E0203: entry<{ stage: string; actual: string }>("error", (p) => `the condition of \`${p.stage}\` must be bool, found ${p.actual}`),
  E0204: entry<{ op: string; left: string; right: string }>("error", (p) => `cannot apply ${q(p.op)} to ${p.left} and ${p.right}`),
  E0205: entry<{ type: string; what: string }>("error", (p) => `${p.what} is optional (${p.type}) and must be unwrapped first`),
  E0206: entry<{ left: string; right: string }>("error", (p) => `cannot compare ${p.left} with ${p.right}`),
  E0207: entry<{ type: string }>("error", (p) => `\`==\` and \`!=\` are not defined on ${p.type}`),
  E0208: entry<{ name: string; expected: string; actual: number }>("error", (p) => `${q(p.name)} takes ${p.expected}, but ${p.actual} ${p.actual === 1 ? "was" : "were"} given`),
  E0209: entry<{ name: string; index: number; expected: string; actual: string }>("error", (p) => `argument ${p.index} of ${q(p.name)}: expected ${p.expected}, found ${p.actual}`),
  E0210: entry("error", () => "this select item needs a name"),
  E0211: entry<{ suggestion: string }>("error", (p) => `\`select *\` is ambiguous after a join; name the sides: ${p.suggestion}`),
  E0212: entry<{ field: string; sides: string }>("error", (p) => `field ${q(p.field)} is ambiguous: it is on ${p.sides}`),
  E0213: entry<{ type: string }>("error", (p) => `cannot access a field of ${p.type}`),
  E0214: entry<{ type: string }>("error", (p) => `cannot index ${p.type}; only arrays can be indexed`),
  E0215: entry<{ then: string; else: string }>("error", (p) => `the branches of \`if\` have different types: ${p.then} and ${p.else}`),
  E0216: entry<{ type: string }>("error", (p) => `\`unnest\` needs an array field, found ${p.type}`),
  E0217: entry<{ first: string; other: string }>("error", (p) => `array elements have different types: ${p.first} and ${p.other}`),
  E0218: entry<{ field: string; type: string }>("error", (p) => `the event time field ${q(p.field)} must be time, found ${p.type}`),
  E0219: entry<{ what: string }>("error", (p) => `${p.what} must be a constant`),
  E0220: entry<{ name: string }>("error", (p) => `${q(p.name)} is a stream, not a value`),
  E0221: entry<{ type: string }>("error", (p) => `cannot use null here: the type ${p.type} is not known`),
  E0222: entry<{ expected: string; actual: string }>("error", (p) => `the function body has type ${p.actual}, but its declared return type is ${p.expected}`),
  E0223: entry<{ name: string }>("error", (p) => `${q(p.name)} takes no named arguments`),
  E0224: entry<{ pattern: string; reason: string }>("error", (p) => `invalid regular expression: /${p.pattern}/: ${p.reason}`),
  E0225: entry<{ type: string }>("error", (p) => `the event time must be a time, found ${p.type}`),

  // ---- stages and streams: E03xx
  E0301: entry<{ name: string }>("error", (p) => `aggregate ${q(p.name)} is only allowed in \`agg\``),
  E0302: entry<{ name: string }>("error", (p) => `aggregate ${q(p.name)} cannot contain another aggregate`),
  E0303: entry("error", () => "cannot aggregate an upsert stream again (it is the output of an unwindowed `agg`)"),
  E0304: entry("error", () => "`top` needs a window"),
  E0305: entry<{ left: string; right: string }>("error", (p) => `a window join needs the same window on both sides: ${p.left} and ${p.right}`),
  E0306: entry<{ first: string; other: string }>("error", (p) => `union inputs must have the same type: ${p.first} and ${p.other}`),
  E0307: entry<{ what: string }>("error", (p) => `${p.what} has no stage to consume it`),
  E0309: entry("error", () => "`emit final` needs an updating stream (the output of an unwindowed `agg` or `top`, or a source of changes)"),
  E0310: entry<{ field: string }>("error", (p) => `${q(p.field)} is not a field that can be selected here`),
  E0311: entry<{ name: string }>("error", (p) => `${q(p.name)} is neither a group key nor inside an aggregate`),
  E0312: entry<{ what: string }>("error", (p) => `${p.what} is not supported on a session window`),
  E0313: entry<{ what: string }>("error", (p) => `${p.what} is not supported on an updating stream`),
  E0314: entry<{ name: string }>("error", (p) => `${q(p.name)} is a table; use \`lookup\` to enrich a stream from it`),
  E0315: entry<{ name: string }>("error", (p) => `${q(p.name)} is a stream; \`lookup\` needs a table`),
  E0316: entry<{ name: string; type: string }>("error", (p) => `${q(p.name)} cannot aggregate ${p.type}`),
  E0317: entry("error", () => "this agg item needs a name"),
  E0318: entry<{ name: string }>("error", (p) => `the alias ${q(p.name)} is already used in this pipeline`),
  E0319: entry<{ name: string }>("error", (p) => `${q(p.name)} is an output; outputs cannot be read`),
  E0320: entry<{ key: string; stage: string }>("error", (p) => `the group key ${q(p.key)} cannot be computed at ${q(p.stage)}: a stage after \`group by\` removed what it reads`),
  E0321: entry<{ what: string; type: string }>("error", (p) => `${p.what} needs a record, but the element is ${p.type}`),
  E0322: entry("error", () => "`unnest` takes a field of the record"),
  E0323: entry<{ name: string }>("error", (p) => `unknown window ${q(p.name)}`),
  E0324: entry<{ window: string; part: "size" | "slide" | "gap" }>("error", (p) => `the ${p.window} window's ${p.part} must be positive`),
  E0325: entry("error", () => "the `within` duration of `distinct` must be positive"),
  E0326: entry("error", () => "`distinct` uses either the window or `within`, not both"),
  E0327: entry("error", () => "a parenthesized join side needs a name"),
  E0328: entry("error", () => "the left side of this join has no name"),
  E0329: entry("error", () => "the `within` duration of a join cannot be negative"),
  E0330: entry("error", () => "the lower `within` bound is above the upper one"),
  E0331: entry("error", () => "the percentile must be a constant between 0 and 1"),
  E0332: entry<{ join: string }>("error", (p) => `${/^[aeiou]/.test(p.join) ? "an" : "a"} \`${p.join} join\` needs \`within\` bounds or the same window on both sides`),
  E0334: entry("error", () => "`with ties` needs a window"),
  E0335: entry<{ name: string }>("error", (p) => `${q(p.name)} cannot take back a value, so it cannot aggregate an updating stream`),
  E0340: entry<{ field: string }>("error", (p) => `\`extend\` cannot replace the key field ${q(p.field)} of an updating stream`),
  E0341: entry<{ type: string }>("error", (p) => `\`top\` without a window appends a \`rank\` field, so it needs a record, but the element is ${p.type}`),
  E0342: entry("error", () => "the rows of this `top` already have a field `rank`"),
  E0343: entry<{ what: string }>("error", (p) => `${p.what} mixes an updating stream with an append stream`),
  E0344: entry<{ first: string; other: string }>("error", (p) => `the updating streams of a union have different keys: (${p.first}) and (${p.other})`),
  // rolling aggregates and lag (LANGUAGE.md §13)
  E0350: entry<{ what: string }>("error", (p) => `${p.what} is only allowed in \`extend\``),
  E0351: entry("error", () => "a rolling aggregate or `lag` cannot follow `window`"),
  E0352: entry<{ name: string }>("error", (p) => `${q(p.name)} cannot be computed over a sliding range`),
  E0353: entry("error", () => "`over` needs a positive duration (`over 5m`) or a positive number of rows (`over 10 rows`)"),
  E0354: entry<{ name: string }>("error", (p) => `\`over\` follows an aggregate call, and ${q(p.name)} is not an aggregate`),

  // ---- declarations and connectors: E04xx
  E0402: entry<{ field: string; type: string }>("error", (p) => `key field ${q(p.field)} is not on ${p.type}`),
  E0403: entry<{ type: string }>("error", (p) => `a source or table type must be a record or a scalar, found ${p.type}`),
  E0404: entry<{ connector: string; name: string }>("error", (p) => `${p.connector}() has no argument ${q(p.name)}`),
  E0405: entry<{ connector: string; name: string }>("error", (p) => `the argument ${q(p.name)} of ${p.connector}() is given twice`),
  E0406: entry<{ connector: string; name: string }>("error", (p) => `${p.connector}() needs the argument ${q(p.name)}`),
  E0407: entry<{ connector: string; name: string; value: string }>("error", (p) => `${p.connector}(): unknown ${p.name} "${p.value}"`),
  E0408: entry<{ format: string; type: string }>("error", (p) => `the "${p.format}" format cannot read ${p.type}`),
  E0409: entry<{ type: string }>("error", (p) => `range() yields int, but the declared type is ${p.type}`),
  E0410: entry<{ name: string }>("error", (p) => `the ${p.name} must be positive`),
  E0411: entry("error", () => "the watermark delay cannot be negative"),
  E0412: entry("error", () => "TypeScript imports are resolved by the flowc CLI and are not available here"),
  E0413: entry<{ path: string }>("error", (p) => `cannot find ${p.path}`),
  E0414: entry<{ name: string; param: string; type: string }>("error", (p) => `parameter ${q(p.param)} of ${q(p.name)} has type ${p.type}, which Flow cannot pass`),
  E0415: entry<{ name: string; type: string }>("error", (p) => `${q(p.name)} returns ${p.type}, which Flow cannot use`),
  E0416: entry<{ format: string }>("error", (p) => `a source in the "${p.format}" format needs a \`key\` clause`),
  E0417: entry("error", () => "`key` on a source needs a format of changes (\"debezium\" or \"changelog\")"),
  E0418: entry<{ format: string }>("error", (p) => `a table cannot read the "${p.format}" format`),
  E0419: entry("error", () => "the `idle` duration must be positive"),
  E0420: entry<{ field: string; connector: string; type: string }>("error", (p) => `the metadata field ${q(p.field)} of ${p.connector}() has type ${p.type}`),
  E0421: entry<{ connector: string; type: string }>("error", (p) => `${p.connector}() writes rows of a record type, found ${p.type}`),

  // ---- tests (LANGUAGE.md §14): E05xx
  E0501: entry<{ name: string }>("error", (p) => `a test can feed only a source or a table, and ${q(p.name)} is neither`),
  E0502: entry<{ name: string }>("error", (p) => `the source ${q(p.name)} has no \`event time\`, so a test cannot feed it`),
  E0503: entry<{ name: string }>("error", (p) => `the program has no output ${q(p.name)}`),
  E0504: entry("error", () => "a test input is a list of records `[…]` or `file(\"path\")`"),
  E0505: entry<{ fields: string; count: number; type: string }>("error", (p) => `this record lacks the field${p.count === 1 ? "" : "s"} ${p.fields} of ${p.type}`),
  E0506: entry("error", () => "a test value must be a literal"),
  E0507: entry("error", () => "a change is `{op: \"upsert\", row: {…}}` or `{op: \"delete\", key: {…}}`"),
  E0508: entry<{ mode: string; name: string }>("error", (p) => `\`expect … ${p.mode}\` needs an updating output, and ${q(p.name)} is an append stream`),
  E0509: entry<{ what: string }>("error", (p) => `\`expect ${p.what}\` takes a count: a non-negative integer`),
  E0510: entry<{ name: string; what: string }>("error", (p) => `this test gives ${p.what} ${q(p.name)} twice`),

  // ---- warnings: W0xxx
  W0001: entry("warning", () => "join without `within` or a window keeps unbounded state"),
  W0002: entry("warning", () => "`distinct` without `within` or a window keeps unbounded state"),
  W0003: entry<{ name: string }>("warning", (p) => `${q(p.name)} is never used`),
  W0005: entry<{ source: string }>("warning", (p) => `${q(p.source)} has no \`event time\`: this window uses the arrival time (the wall clock), not the data's time`),
  W0006: entry("warning", () => "the slide is larger than the window: some records belong to no window"),
  W0010: entry<{ what: string }>("warning", (p) => `${p.what} keeps every row of its updating input: its state grows with the input's keys`),
  W0012: entry<{ connector: string }>("warning", (p) => `a ${p.connector}() source never waits for input, so it never goes idle`),
  W0011: entry<{ key: string }>("warning", (p) => `this stage drops or changes the key field ${q(p.key)}: the stream becomes an append stream of its upserts (deletes are lost)`),

  // ---- internal
  E9999: entry<{ text: string }>("error", (p) => `internal error: ${p.text}`),
} as const;

export type Code = keyof typeof catalogue;
export type ParamsOf<C extends Code> = Parameters<(typeof catalogue)[C]["message"]>[0];

export interface DiagExtras {
  label?: string;
  notes?: { message: string; span?: Span }[];
  hint?: string;
}

/** Builds a diagnostic from the catalogue. */
export function diag<C extends Code>(code: C, params: ParamsOf<C>, span: Span, extras: DiagExtras = {}): Diagnostic {
  const e = catalogue[code] as Entry<ParamsOf<C>>;
  return { code, severity: e.severity, message: e.message(params), span, label: extras.label, notes: extras.notes ?? [], hint: extras.hint };
}

export const hasErrors = (ds: readonly Diagnostic[]) => ds.some((d) => d.severity === "error");
