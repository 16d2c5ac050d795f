// Running a program's `test` blocks (LANGUAGE.md §14), without the file system: `prepareTest`
// rewires a compiled program for one test (its inputs replace the connectors, every output prints
// its changelog), the host runs it through the normal runtime in virtual time, and `judgeTest`
// compares what came out with the expectations and explains the first difference. The CLI
// (`flowc test`) and the playground are the hosts; both share this module, which imports neither
// Node nor the runtime (the program is described structurally).
import type { TTest, TTestExpect, TTestInput, TestJson } from "../check/typed";

/** The parts of a compiled program (runtime/src/contract.ts `Program`) a test rewires. */
export interface RunnableProgram {
  sources: readonly { name: string; connector: { kind: string; format?: string } }[];
  tables: readonly { name: string; connector: { kind: string; format?: string } }[];
  outputs: readonly { name: string; connector?: unknown; key?: string[] }[];
}

export interface PreparedTest<P> {
  /** The program with every output on stdout and `file(…)` inputs as file connectors. */
  program: P;
  /** Records per source / table name (JSON values, as the runtime decodes them); `[]` when unfed. */
  sourceOverrides: Record<string, unknown[]>;
  /** The files (`input S = file("path")`, relative to the program) the run reads. */
  files: string[];
}

/** A null-prototype record: names come from the program. */
const dict = <T>(): Record<string, T> => Object.create(null) as Record<string, T>;

const fileFormat = (path: string, declared: string | undefined): string => {
  const p = path.toLowerCase();
  if (p.endsWith(".csv")) return "csv";
  if (p.endsWith(".jsonl") || p.endsWith(".ndjson") || p.endsWith(".json")) return "jsonl";
  return declared === "csv" || declared === "lines" ? declared : "jsonl";
};

/** A change literal as the source's format writes it (Debezium envelopes for a debezium source). */
function changeMessage(input: TTestInput, v: TestJson): unknown {
  if (input.changes !== "debezium" || v === null || typeof v !== "object" || Array.isArray(v)) return v;
  return v.op === "delete" ? { before: v.key, after: null, op: "d" } : { before: null, after: v.row, op: "c" };
}

/** The program and run options for one test. */
export function prepareTest<P extends RunnableProgram>(program: P, test: TTest): PreparedTest<P> {
  const sourceOverrides = dict<unknown[]>();
  const files: string[] = [];
  const fileInputs = new Map<string, string>();
  for (const s of [...program.sources, ...program.tables]) sourceOverrides[s.name] = [];
  for (const input of test.inputs) {
    if (input.data === "rows") sourceOverrides[input.name] = input.rows.map((r) => changeMessage(input, r.value));
    else {
      delete sourceOverrides[input.name];
      fileInputs.set(input.name, input.path);
      files.push(input.path);
    }
  }
  const withFile = <S extends { name: string; connector: { kind: string; format?: string } }>(s: S): S => {
    const path = fileInputs.get(s.name);
    return path === undefined ? s : { ...s, connector: { kind: "file", path, format: fileFormat(path, s.connector.format) } };
  };
  const rewired = {
    ...program,
    sources: program.sources.map(withFile),
    tables: program.tables.map(withFile),
    // Every output prints on stdout (in the changelog format the host asks for), never to a file.
    outputs: program.outputs.map((o) => ({ ...o, connector: undefined })),
  };
  return { program: rewired, sourceOverrides, files };
}

// ---- judging ------------------------------------------------------------------------------------

/** What a test's run gave: its stdout in the changelog format, and the summary's counts. */
export interface ObservedRun {
  stdout: string;
  late: number;
  bad: number;
  /** The run failed (an input could not be read, …): the message. */
  error?: string;
  /** Bad-record messages (stderr), shown when `expect bad` fails. */
  stderr?: string;
}

export interface TestOutcome {
  name: string;
  passed: boolean;
  /** One text block per failed expectation (several lines, no trailing newline). */
  failures: string[];
}

type Change = { op: string; row?: TestJson; key?: TestJson };

/** `a` and `b` are the same JSON value (field order aside). */
export function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === (b as unknown[]).length && a.every((x, i) => sameJson(x, (b as unknown[])[i]));
  const ka = Object.keys(a), kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

const show = (v: unknown): string => JSON.stringify(v) ?? "undefined";

/** The changes printed for each output (stdout lines are `NAME<TAB>JSON` when there are several). */
function changesByOutput(outputs: readonly string[], stdout: string): Map<string, Change[]> {
  const out = new Map<string, Change[]>(outputs.map((n) => [n, []]));
  for (const line of stdout.split("\n")) {
    if (line === "") continue;
    let name = outputs[0]!;
    let json = line;
    if (outputs.length > 1) {
      const tab = line.indexOf("\t");
      name = line.slice(0, tab);
      json = line.slice(tab + 1);
    }
    out.get(name)?.push(JSON.parse(json) as Change);
  }
  return out;
}

/** Fields on which two records differ (top level), or undefined when they are not both records. */
function differingFields(expected: unknown, actual: unknown): string[] | undefined {
  const isRec = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  if (!isRec(expected) || !isRec(actual)) return undefined;
  // A change: compare its row (or key).
  if (typeof expected.op === "string" && typeof actual.op === "string" && expected.op === actual.op) {
    const part = "row" in expected ? "row" : "key";
    const inner = differingFields(expected[part], actual[part]);
    return inner?.map((f) => `${part}.${f}`);
  }
  const names = [...new Set([...Object.keys(expected), ...Object.keys(actual)])];
  return names.filter((k) => !sameJson(expected[k], actual[k]));
}

function fieldLines(expected: unknown, actual: unknown): string[] {
  const fields = differingFields(expected, actual);
  if (!fields || fields.length === 0) return [];
  const get = (v: unknown, path: string) => path.split(".").reduce<unknown>((o, k) => (o !== null && typeof o === "object" ? (o as Record<string, unknown>)[k] : undefined), v);
  return fields.map((f) => `field \`${f}\`: expected ${show(get(expected, f))}, got ${show(get(actual, f))}`);
}

/** `window [start, end)` when the row (or a change's row) has window bounds. */
function windowOf(v: unknown): string | undefined {
  if (v === null || typeof v !== "object") return undefined;
  const r = v as Record<string, unknown>;
  if (typeof r.op === "string") return windowOf(r.row);
  return typeof r.window_start === "string" && typeof r.window_end === "string" ? `window [${r.window_start}, ${r.window_end})` : undefined;
}

export interface JudgeOptions {
  /** The line of a span's start (1-based), for "expected at line N". */
  lineOf?: (offset: number) => number;
  /** Rows shown around the first difference (default 2). */
  context?: number;
}

const what = (mode: string) => (mode === "changes" ? "change" : "row");

/** Compares in order: the first differing row with both versions and the rows around it. */
function orderedDiff(label: string, e: Extract<TTestExpect, { kind: "rows" }>, actual: unknown[], o: JudgeOptions): string | undefined {
  const expected = e.rows.map((r) => r.value);
  const n = Math.max(expected.length, actual.length);
  let i = 0;
  while (i < n && i < expected.length && i < actual.length && sameJson(expected[i], actual[i])) i++;
  if (i === n) return undefined;
  const noun = what(e.mode);
  const lines: string[] = [];
  const at = i < e.rows.length && o.lineOf ? ` (expected at line ${o.lineOf(e.rows[i]!.span.start)})` : "";
  if (i >= expected.length) lines.push(`${label}: ${noun} ${i + 1} was not expected${at}: got ${actual.length} ${noun}s, expected ${expected.length}`);
  else if (i >= actual.length) lines.push(`${label}: ${noun} ${i + 1} is missing${at}: got ${actual.length} ${noun}s, expected ${expected.length}`);
  else lines.push(`${label}: ${noun} ${i + 1} differs${at}`);
  lines.push(`  expected: ${i < expected.length ? show(expected[i]) : "(nothing)"}`);
  lines.push(`  actual:   ${i < actual.length ? show(actual[i]) : "(nothing)"}`);
  if (i < expected.length && i < actual.length) for (const f of fieldLines(expected[i], actual[i])) lines.push(`  ${f}`);
  const w = windowOf(i < actual.length ? actual[i] : expected[i]);
  if (w) lines.push(`  ${w}`);
  const k = o.context ?? 2;
  const from = Math.max(0, i - k), to = Math.min(actual.length, i + k + 1);
  if (to > from) {
    lines.push(`  actual ${noun}s ${from + 1}..${to}:`);
    for (let j = from; j < to; j++) lines.push(`  ${j === i ? ">" : " "} ${String(j + 1).padStart(3)} ${show(actual[j])}`);
  }
  return lines.join("\n");
}

/** Compares as multisets: the expected rows not produced and the produced rows not expected. */
function unorderedDiff(label: string, e: Extract<TTestExpect, { kind: "rows" }>, actual: unknown[], o: JudgeOptions, noun: string): string | undefined {
  const left = [...actual];
  const missing: { value: unknown; line?: number }[] = [];
  for (const r of e.rows) {
    const k = left.findIndex((a) => sameJson(a, r.value));
    if (k >= 0) left.splice(k, 1);
    else missing.push({ value: r.value, line: o.lineOf?.(r.span.start) });
  }
  if (missing.length === 0 && left.length === 0) return undefined;
  const lines = [`${label}: ${missing.length} expected ${noun}${missing.length === 1 ? "" : "s"} not produced, ${left.length} produced ${noun}${left.length === 1 ? "" : "s"} not expected (got ${actual.length}, expected ${e.rows.length})`];
  const k = o.context ?? 2;
  for (const m of missing.slice(0, k + 1)) lines.push(`  missing${m.line ? ` (line ${m.line})` : ""}: ${show(m.value)}`);
  for (const x of left.slice(0, k + 1)) lines.push(`  extra:   ${show(x)}`);
  if (missing.length > 0 && left.length > 0) {
    // The closest produced row to the first missing one: the fields that differ.
    const first = missing[0]!.value;
    const best = left.map((x) => ({ x, d: differingFields(first, x) })).filter((c) => c.d !== undefined).sort((a, b) => a.d!.length - b.d!.length)[0];
    if (best) {
      for (const f of fieldLines(first, best.x)) lines.push(`  nearest extra row: ${f}`);
      const w = windowOf(first);
      if (w) lines.push(`  ${w}`);
    }
  }
  return lines.join("\n");
}

/** The final table of an updating output: its changes applied, by key. */
function finalTable(changes: Change[], key: readonly string[]): unknown[] {
  const keyOf = (r: unknown) => show(key.map((k) => (r as Record<string, unknown> | null)?.[k]));
  const table = new Map<string, unknown>();
  for (const c of changes) {
    if (c.op === "delete") table.delete(keyOf(c.key));
    else table.set(keyOf(c.row), c.row);
  }
  return [...table.values()];
}

/** Judges one test's run against its expectations. */
export function judgeTest(test: TTest, outputs: readonly string[], observed: ObservedRun, options: JudgeOptions = {}): TestOutcome {
  const failures: string[] = [];
  if (observed.error !== undefined) return { name: test.name, passed: false, failures: [`the run failed: ${observed.error}`] };
  let byOutput: Map<string, Change[]>;
  try {
    byOutput = changesByOutput(outputs, observed.stdout);
  } catch (e) {
    return { name: test.name, passed: false, failures: [`the run printed something that is not a change: ${(e as Error).message}`] };
  }
  for (const e of test.expects) {
    if (e.kind === "count") {
      const got = e.what === "late" ? observed.late : observed.bad;
      if (got !== e.count) {
        let text = `${e.what}: expected ${e.count}, got ${got}`;
        if (e.what === "bad" && observed.stderr) text += "\n" + observed.stderr.trimEnd().split("\n").slice(0, 5).map((l) => `  ${l}`).join("\n");
        failures.push(text);
      }
      continue;
    }
    const changes = byOutput.get(e.output) ?? [];
    const rows = changes.filter((c) => c.op !== "delete").map((c) => c.row);
    const label = e.mode === "ordered" ? e.output : `${e.output} ${e.mode}`;
    let diff: string | undefined;
    switch (e.mode) {
      case "ordered":
        diff = orderedDiff(label, e, rows, options);
        break;
      case "changes":
        diff = orderedDiff(label, e, changes, options);
        break;
      case "unordered":
        diff = unorderedDiff(label, e, rows, options, "row");
        break;
      case "final":
        diff = unorderedDiff(label, e, finalTable(changes, e.key ?? []), options, "row");
        break;
    }
    if (diff !== undefined) failures.push(diff);
  }
  return { name: test.name, passed: failures.length === 0, failures };
}

/** `N passed, M failed` (the last line of `flowc test`). */
export const testSummary = (passed: number, failed: number): string => `${passed} passed, ${failed} failed`;

// ---- running ------------------------------------------------------------------------------------

/** The runtime functions a test run needs (runtime/src/index.ts has them; described, not imported). */
export interface TestRuntime<P> {
  runProgram(program: P, options: { env: TestEnv; baseDir: string; sourceOverrides: Record<string, unknown[]>; stdoutFormat: "changelog"; summary: false; progress: false }): Promise<{ late: number; bad: number }>;
  createMemoryEnv(init: { files: Record<string, string | Uint8Array> }): TestEnv;
}

export interface TestEnv {
  stdoutText(): string;
  stderrText(): string;
}

/**
 * Runs one test of a compiled program: `files` holds the contents of the test's `file(…)` inputs
 * by the path the test names (a missing one fails the test).
 */
export async function runTest<P extends RunnableProgram>(rt: TestRuntime<P>, program: P, test: TTest, files: Record<string, string | Uint8Array>, options: JudgeOptions = {}): Promise<TestOutcome> {
  const prepared = prepareTest(program, test);
  const outputs = program.outputs.map((o) => o.name);
  const inputs: Record<string, string | Uint8Array> = Object.create(null) as Record<string, string | Uint8Array>;
  for (const f of prepared.files) {
    if (!Object.hasOwn(files, f)) return { name: test.name, passed: false, failures: [`cannot read ${f}: no such file`] };
    inputs[f] = files[f]!;
  }
  const env = rt.createMemoryEnv({ files: inputs });
  try {
    const summary = await rt.runProgram(prepared.program, { env, baseDir: ".", sourceOverrides: prepared.sourceOverrides, stdoutFormat: "changelog", summary: false, progress: false });
    return judgeTest(test, outputs, { stdout: env.stdoutText(), late: summary.late, bad: summary.bad, stderr: env.stderrText() }, options);
  } catch (e) {
    return judgeTest(test, outputs, { stdout: env.stdoutText(), late: 0, bad: 0, error: e instanceof Error ? e.message : String(e) }, options);
  }
}
