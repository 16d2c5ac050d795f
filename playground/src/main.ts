// The playground page: a CodeMirror editor compiling Flow on every keystroke (in this page, no
// server), sample inputs per source, a worker that runs the generated JavaScript, and the panes:
// results, timeline, graph, generated code, problems, stats. Share links keep the program and its
// inputs in the URL fragment.
import { EditorState, type Extension } from "@codemirror/state";
import { EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, hoverTooltip, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { defaultKeymap, history as undoHistory, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, indentOnInput } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type CompletionContext as CmContext, type CompletionResult } from "@codemirror/autocomplete";
import { lintGutter, lintKeymap, setDiagnostics, type Diagnostic as CmDiagnostic } from "@codemirror/lint";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { flowSyntax } from "./lang";
import { completionsAt } from "../../compiler/src/service/complete";
import { FlowDocument } from "../../compiler/src/service/service";
import { PlaygroundCompiler, PROGRAM_FILE, type CompileOutput, type InputInfo } from "./compiler";
import { compile } from "../../compiler/src/pipeline";
import { toSvg } from "../../compiler/src/ir/draw";
import { printGraph } from "../../compiler/src/ir/print";
import { LineIndex } from "../../compiler/src/diagnostics/render";
import type { TypedProgram } from "../../compiler/src/check/typed";
import { decodeState, encodeState, isShareLink } from "./share";
import { OVERSCAN_ROWS, inputDiagnostics, nothingToRun, visibleRange, type RunProblem } from "./results";
import { buildTimeline, defaultLayout, describeHit, laneTops, renderTimeline, stepAtTime, timeLabel, watermarkAt, type TimelineModel } from "./timeline";
import type { Progress, RunResult } from "./trace";
import type { WorkerReply, WorkerRequest } from "./worker";
import examples from "virtual:examples";

interface Example {
  id: string;
  title: string;
  group: string;
  description: string;
  program: string;
  files: Record<string, string>;
}
const EXAMPLES = examples as Example[];
const DEFAULT_EXAMPLE = "c07_late_records";
const STORAGE_KEY = "flowc-playground-v1";
const LIMITS = { maxRows: 2000, maxTrace: 5000 };

const $ = <T extends HTMLElement = HTMLElement>(sel: string) => document.querySelector(sel) as T;
const h = <K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: (Node | string)[]) => {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
};
const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
const ms = (n: number) => (n < 10 ? `${n.toFixed(1)} ms` : n < 10_000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`);

const runtimeUrl = new URL("runtime.js", document.baseURI).href;
const compiler = new PlaygroundCompiler({ runtimeUrl });

// ---- state -----------------------------------------------------------------------------------

const state = {
  files: {} as Record<string, string>,
  inputs: [] as InputInfo[],
  activeInput: "",
  compiled: undefined as CompileOutput | undefined,
  lastGoodTyped: undefined as TypedProgram | undefined,
  compileSeq: 0,
  /** The compile a run belongs to, and its result. */
  /** `files`: the sample inputs as they were when the run started (its problems' lines refer to them). */
  run: undefined as undefined | { id: number; code: string; files: Record<string, string>; status: "running" | "done" | "stopped" | "failed"; started: number; result?: RunResult; partial?: Map<string, { rows: string[]; total: number }>; totalIn?: number; message?: string; ended?: number; loadMs?: number },
  ranKey: "",
  /** A compile had errors since the last run: the next one that compiles runs even if its
   *  text equals the last run's (the Results pane shows the errors until then). */
  skippedForErrors: false,
  /** The example the editor was loaded with (undefined: a share link, a saved or empty program). */
  example: undefined as Example | undefined,
  /** Where the program came from, for the line above the editor. */
  origin: "example" as "example" | "share" | "saved",
  runSeq: 0,
  timeline: undefined as TimelineModel | undefined,
  step: 0,
  playing: false,
  pane: "results",
  resultView: new Map<string, "table" | "changes" | "json">(),
  sort: new Map<string, { col: number; desc: boolean }>(),
  graphText: false,
};

// ---- editors ---------------------------------------------------------------------------------

let compileTimer: ReturnType<typeof setTimeout> | undefined;
const scheduleCompile = (delay = 120) => {
  clearTimeout(compileTimer);
  compileTimer = setTimeout(recompile, delay);
};

function flowCompletions(ctx: CmContext): CompletionResult | null {
  const text = ctx.state.doc.toString();
  const pos = ctx.pos;
  let typed: TypedProgram | undefined;
  try {
    const r = compile(text, { checkOnly: true });
    typed = r.typed && r.typed.outputs.length + r.typed.lets.size > 0 ? r.typed : undefined;
  } catch {
    typed = undefined;
  }
  let c = completionsAt(text, pos, typed ?? state.lastGoodTyped, ctx.explicit);
  if (c && typed && c.items.every((i) => i.type !== "property") && state.lastGoodTyped) {
    // The current text may not parse around the cursor: fields from the last program that did.
    const older = completionsAt(text, pos, state.lastGoodTyped, ctx.explicit);
    if (older && older.items.some((i) => i.type === "property")) c = older;
  }
  if (!c) return null;
  return { from: c.from, options: c.items, validFor: /^[A-Za-z_][A-Za-z0-9_]*$/ };
}

/** The language service `flowc lsp` answers from: hover types here come from the same code. */
let service: FlowDocument | undefined;
function serviceFor(text: string): FlowDocument {
  if (!service) service = new FlowDocument(text);
  else if (service.source !== text) service.update(text);
  return service;
}

const typeTooltips = hoverTooltip((view, pos) => {
  const h = serviceFor(view.state.doc.toString()).hover(pos);
  if (!h) return null;
  return {
    pos: h.span.start,
    end: h.span.end,
    above: true,
    create: () => {
      const dom = document.createElement("div");
      dom.className = "type-tooltip";
      // The service answers in Markdown with code in backticks: shown as code, nothing else parsed.
      for (const [k, part] of h.text.split("`").entries()) {
        if (k % 2 === 1) {
          const c = document.createElement("code");
          c.textContent = part;
          dom.append(c);
        } else dom.append(document.createTextNode(part));
      }
      return { dom };
    },
  };
});

/** Rewrites the program in `flowc fmt`'s layout (Shift-Alt-F); a program with syntax errors stays. */
function formatProgram(): boolean {
  const text = editor.state.doc.toString();
  const formatted = serviceFor(text).formatted();
  if (formatted !== undefined && formatted !== text) editor.dispatch({ changes: { from: 0, to: text.length, insert: formatted } });
  return true;
}

const baseExtensions = (): Extension[] => [
  lineNumbers(),
  highlightActiveLineGutter(),
  undoHistory(),
  drawSelection(),
  indentOnInput(),
  bracketMatching(),
  closeBrackets(),
  highlightActiveLine(),
  highlightSelectionMatches(),
  keymap.of([{ key: "Mod-Enter", run: () => (runNow(), true) }, ...closeBracketsKeymap, ...defaultKeymap, ...searchKeymap, ...historyKeymap, ...completionKeymap, ...lintKeymap, indentWithTab]),
];

const editor = new EditorView({
  parent: $("#editor"),
  state: EditorState.create({
    doc: "",
    extensions: [
      baseExtensions(),
      flowSyntax,
      lintGutter(),
      autocompletion({ override: [flowCompletions], activateOnTyping: true }),
      typeTooltips,
      keymap.of([{ key: "Shift-Alt-f", run: formatProgram }]),
      placeholder("Write a Flow program here, or pick one from Examples…  e.g.\n\nsource n: int = range(0, 10)\nemit n | map it * it"),
      EditorView.updateListener.of((u) => {
        if (!u.docChanged) return;
        scheduleCompile();
        if (!settingDoc) userEdited();
      }),
      EditorView.contentAttributes.of({ "aria-label": "Flow program" }),
    ],
  }),
});

const dataEditor = new EditorView({
  parent: $("#data-editor"),
  state: EditorState.create({ doc: "", extensions: dataExtensions() }),
});

function dataExtensions(): Extension[] {
  return [
    baseExtensions(),
    placeholder("Paste sample records here: one JSON object per line (or CSV with a header row)."),
    // Bad input records of the last run are underlined (see renderInputDiagnostics).
    lintGutter(),
    EditorView.contentAttributes.of({ "aria-label": "Sample input" }),
    EditorView.updateListener.of((u) => {
      if (!u.docChanged || !state.activeInput) return;
      if (!settingDoc) userEdited();
      state.files[state.activeInput] = u.state.doc.toString();
      updateDataInfo();
      saveLocal();
      scheduleRun(350);
    }),
  ];
}

/** True while the page itself replaces an editor's text (not an edit by the user). */
let settingDoc = false;
function setDoc(view: EditorView, text: string) {
  settingDoc = true;
  try {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  } finally {
    settingDoc = false;
  }
}

/**
 * The user changed the program or an input. A `#s=` (or `#example`) fragment in the address bar
 * now names an older program: drop it, so a reload restores the newer local copy instead.
 */
function userEdited() {
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  renderExampleInfo();
}

// ---- compiling -------------------------------------------------------------------------------

function recompile() {
  const source = editor.state.doc.toString();
  if (state.compiled?.source === source) return;
  const out = compiler.compile(source);
  state.compiled = out;
  state.compileSeq++;
  if (out.result.ok && out.result.typed) state.lastGoodTyped = out.result.typed;
  editor.dispatch(setDiagnostics(editor.state, out.diagnostics));
  $<HTMLButtonElement>("#run-tests").hidden = !(out.result.typed && out.result.typed.tests.length > 0);
  $("#test-results").hidden = true;
  if (out.inputs.length > 0 || !/^\s*(source|table)\b/m.test(source)) state.inputs = out.inputs;
  renderInputTabs();
  renderProblems();
  renderCode();
  renderGraph();
  renderStatus();
  saveLocal();
  renderExampleInfo();
  if (out.result.ok) {
    // Results: rows of this program (or the calm empty state, or stale rows when auto-run is
    // off) instead of "the program has errors".
    renderResults();
    renderTimelinePane();
    scheduleRun(0);
  } else {
    state.skippedForErrors = true;
    renderResults();
  }
}

// ---- inputs ----------------------------------------------------------------------------------

function renderInputTabs() {
  const nav = $("#input-tabs");
  const inputs = state.inputs;
  if (!inputs.some((i) => i.path === state.activeInput)) state.activeInput = inputs.find((i) => i.kind !== "generator")?.path ?? inputs[0]?.path ?? "";
  nav.replaceChildren(
    ...inputs.map((i) => {
      const b = h("button", { class: "tab" + (i.path === state.activeInput ? " active" : ""), "data-input": i.path, title: `${i.table ? "table" : "source"} ${i.name}: ${i.type} = ${i.describe}` }, `${i.kind === "generator" ? "⚙ " : ""}${i.kind === "file" ? i.path : i.kind === "stdin" ? "stdin" : i.name}`);
      b.onclick = () => {
        state.activeInput = i.path;
        renderInputTabs();
      };
      return b;
    }),
  );
  if (inputs.length === 0) nav.append(h("span", { class: "muted" }, "no inputs"));
  const active = inputs.find((i) => i.path === state.activeInput);
  const gen = $("#generator-info");
  const dataBox = $("#data-editor");
  if (!active || active.kind === "generator") {
    dataBox.hidden = true;
    gen.hidden = false;
    gen.innerHTML = active
      ? `<p><b>${esc(active.name)}</b> is generated in the worker: <code>${esc(active.describe)}</code>.</p><p class="muted">Generators are deterministic for a seed. Change the count in the program (for example <code>events: 2000</code>) to make more or fewer records; a run longer than the time limit is stopped.</p>`
      : `<p class="muted">This program reads no input.</p>`;
  } else {
    gen.hidden = true;
    dataBox.hidden = false;
    const text = state.files[active.path] ?? "";
    if (dataEditor.state.doc.toString() !== text || (dataEditor.dom.dataset.path ?? "") !== active.path) {
      dataEditor.dom.dataset.path = active.path;
      const prev = state.activeInput;
      state.activeInput = "";
      setDoc(dataEditor, text);
      state.activeInput = prev;
    }
    renderInputDiagnostics();
  }
  updateDataInfo();
}

function updateDataInfo() {
  const active = state.inputs.find((i) => i.path === state.activeInput);
  const info = $("#data-info");
  if (!active) {
    info.textContent = "";
    return;
  }
  const text = state.files[active.path] ?? "";
  const lines = text.split("\n").filter((l) => l.trim() !== "").length;
  const what = active.kind === "generator" ? "generator" : `${active.format.toUpperCase()} · ${active.format === "csv" ? Math.max(0, lines - 1) : lines} record${lines === 1 ? "" : "s"}`;
  info.textContent = `${active.table ? "table" : "source"} ${active.name}: ${active.type}${active.eventTime ? ` · event time ${active.eventTime.field}, watermark ${active.eventTime.delayMs / 1000}s` : ""} · ${what}`;
}

// ---- running ---------------------------------------------------------------------------------

let worker: Worker | undefined;
let runTimer: ReturnType<typeof setTimeout> | undefined;
let limitTimer: ReturnType<typeof setTimeout> | undefined;
let tickTimer: ReturnType<typeof setInterval> | undefined;

function startWorker(): Worker {
  const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "flow-run" });
  w.onmessage = (e: MessageEvent<WorkerReply>) => onWorkerMessage(e.data);
  w.onerror = (e) => {
    if (state.run?.status === "running") finishRun("failed", `the worker failed: ${e.message}`);
  };
  w.postMessage({ type: "init", runtimeUrl } satisfies WorkerRequest);
  return w;
}

const autoRun = () => ($("#autorun") as HTMLInputElement).checked;

function scheduleRun(delay: number) {
  if (!autoRun()) {
    // No run: the rows on screen are now from an earlier program or input (marked stale).
    renderResults();
    return;
  }
  clearTimeout(runTimer);
  runTimer = setTimeout(() => runNow(false), delay);
}

function runKey(): string {
  const c = state.compiled;
  if (!c?.result.ok) return "";
  return c.result.typescript + "\u0000" + JSON.stringify(filesFor(c));
}

function filesFor(c: CompileOutput): Record<string, string> {
  const files: Record<string, string> = {};
  for (const i of c.inputs) if (i.kind !== "generator") files[i.path] = state.files[i.path] ?? "";
  return files;
}

/** The last run's rows no longer match the program or its inputs (only when auto-run is off). */
function resultsStale(): boolean {
  return !autoRun() && state.run !== undefined && state.run.status !== "running" && !!state.compiled?.result.ok && runKey() !== state.ranKey;
}

function runNow(force = true) {
  const c = state.compiled;
  if (!c || !c.result.ok || !c.result.typescript) return;
  const key = runKey();
  if (!force && key === state.ranKey && state.run?.status !== "stopped" && !state.skippedForErrors) return;
  state.ranKey = key;
  state.skippedForErrors = false;
  if (state.run?.status === "running") {
    stopWorker();
    worker = startWorker();
  }
  if (nothingToRun(c)) {
    // Nothing to run (no output yet): an empty state, not a run of an empty graph.
    state.run = undefined;
    state.timeline = undefined;
    renderAll();
    return;
  }
  worker ??= startWorker();
  const id = ++state.runSeq;
  const files = filesFor(c);
  state.run = { id, code: c.result.typescript, files, status: "running", started: performance.now(), partial: new Map() };
  worker.postMessage({ type: "run", id, runtimeUrl, code: c.result.typescript, files, ops: c.ops, limits: LIMITS } satisfies WorkerRequest);
  const limit = Number(($("#time-limit") as HTMLSelectElement).value) * 1000;
  clearTimeout(limitTimer);
  limitTimer = setTimeout(() => {
    if (state.run?.id === id && state.run.status === "running") {
      stopWorker();
      finishRun("stopped", `stopped by the time limit (${limit / 1000} s): the program was still running`);
    }
  }, limit);
  clearInterval(tickTimer);
  tickTimer = setInterval(renderStatus, 200);
  renderStatus();
}

/**
 * `Run tests`: the program's `test` blocks in a worker of their own (as `flowc test` runs them);
 * pass/fail shows above the editor and on each test's line.
 */
let testSeq = 0;
async function runTests() {
  const c = state.compiled;
  const tests = c?.result.ok ? c.result.typed?.tests : undefined;
  if (!c || !tests || tests.length === 0 || !c.result.typescript) return;
  const id = ++testSeq;
  const panel = $("#test-results");
  panel.hidden = false;
  panel.textContent = `running ${tests.length} test${tests.length === 1 ? "" : "s"}…`;
  const w = new Worker(new URL("./worker.js", import.meta.url), { type: "module", name: "flow-test" });
  const limit = Number(($("#time-limit") as HTMLSelectElement).value) * 1000;
  const reply = await new Promise<WorkerReply | string>((resolve) => {
    const timer = setTimeout(() => resolve(`stopped by the time limit (${limit / 1000} s)`), limit);
    w.onmessage = (e: MessageEvent<WorkerReply>) => {
      if (e.data.type === "ready" || e.data.type === "progress") return;
      clearTimeout(timer);
      resolve(e.data);
    };
    w.onerror = (e) => resolve(`the worker failed: ${e.message}`);
    w.postMessage({ type: "test", id, runtimeUrl, code: c.result.typescript!, files: { ...state.files }, tests } satisfies WorkerRequest);
  });
  w.terminate();
  if (id !== testSeq || state.compiled !== c) return; // the program changed meanwhile
  panel.replaceChildren();
  if (typeof reply === "string" || reply.type !== "tested") {
    panel.textContent = typeof reply === "string" ? reply : reply.type === "failed" ? reply.message : "the tests did not run";
    return;
  }
  const lines = new LineIndex(c.source);
  const marks: CmDiagnostic[] = [];
  let passed = 0;
  reply.outcomes.forEach((o, k) => {
    const test = tests[k]!;
    const row = document.createElement("div");
    row.className = o.passed ? "pass" : "fail";
    row.textContent = `${o.passed ? "✓ pass" : "✗ FAIL"} ${JSON.stringify(o.name)} (line ${lines.at(test.span.start).line})`;
    panel.append(row);
    if (o.passed) passed++;
    else {
      const pre = document.createElement("pre");
      pre.textContent = o.failures.join("\n");
      panel.append(pre);
    }
    const at = { from: test.span.start, to: Math.min(test.span.end, test.span.start + 4) };
    marks.push(o.passed ? { ...at, severity: "info" as const, message: "test passed" } : { ...at, severity: "error" as const, message: `test failed:\n${o.failures.join("\n")}` });
  });
  const summary = document.createElement("div");
  summary.textContent = `${passed} passed, ${reply.outcomes.length - passed} failed`;
  panel.append(summary);
  editor.dispatch(setDiagnostics(editor.state, [...c.diagnostics, ...marks]));
}

function stopWorker() {
  worker?.terminate();
  worker = undefined;
}

function stopRun() {
  if (state.run?.status !== "running") return;
  stopWorker();
  finishRun("stopped", "stopped: you pressed Stop");
}

function finishRun(status: "done" | "stopped" | "failed", message?: string) {
  const run = state.run;
  if (!run) return;
  run.status = status;
  run.ended = performance.now();
  if (message !== undefined) run.message = message;
  clearTimeout(limitTimer);
  clearInterval(tickTimer);
  if (status !== "done" && !worker) worker = startWorker();
  if (run.result) {
    state.timeline = buildTimeline(run.result.trace, state.compiled?.ops ?? []);
    state.step = state.timeline.steps;
  }
  renderAll();
  renderInputDiagnostics();
}

/** Underlines, in the sample-input editor, the bad records of the last run in the file shown. */
function renderInputDiagnostics() {
  const run = state.run;
  const path = state.activeInput;
  const text = dataEditor.state.doc.toString();
  // Only over the text that ran: after an edit, CodeMirror maps the marks it has through the
  // change, but a file shown anew may have other lines.
  const ran = run?.result && path ? run.files[path] : undefined;
  const ds = ran !== undefined && ran === text ? inputDiagnostics(run!.result!.problems, path, text) : [];
  dataEditor.dispatch(setDiagnostics(dataEditor.state, ds));
}

function onWorkerMessage(m: WorkerReply) {
  if (m.type === "ready") return;
  const run = state.run;
  if (!run || m.id !== run.id || run.status !== "running") return;
  if (m.type === "progress") {
    // Progress arrives every ~200 ms; rows are drawn at most once per frame.
    applyProgress(run, m.progress);
    scheduleResultsRender();
    return;
  }
  if (m.type === "failed") {
    finishRun("failed", m.message);
    return;
  }
  if (m.type === "tested") return; // `Run tests` uses a worker of its own
  run.result = m.result;
  run.loadMs = m.loadMs;
  finishRun(m.result.error ? "failed" : "done", m.result.error);
}

function applyProgress(run: NonNullable<typeof state.run>, p: Progress) {
  for (const o of p.outputs) {
    const cur = run.partial!.get(o.name) ?? { rows: [], total: 0 };
    if (cur.rows.length < LIMITS.maxRows) cur.rows.push(...o.newRows.slice(0, LIMITS.maxRows - cur.rows.length));
    cur.total = o.total;
    run.partial!.set(o.name, cur);
  }
  run.totalIn = p.totalIn;
}

// ---- panes -----------------------------------------------------------------------------------

function renderAll() {
  renderStatus();
  renderResults();
  renderGraph();
  renderStats();
  renderTimelinePane();
}

function renderStatus() {
  const c = state.compiled;
  const el = $("#status");
  const run = state.run;
  const stopBtn = $<HTMLButtonElement>("#stop");
  stopBtn.disabled = run?.status !== "running";
  const parts: string[] = [];
  let cls = "ok";
  if (c) {
    const errors = c.result.diagnostics.filter((d) => d.severity === "error").length;
    const warnings = c.result.diagnostics.length - errors;
    if (errors) {
      parts.push(`${errors} error${errors > 1 ? "s" : ""}`);
      cls = "error";
    } else parts.push(`compiled in ${ms(c.ms)}`);
    if (warnings) parts.push(`${warnings} warning${warnings > 1 ? "s" : ""}`);
    $("#tab-problems-count").textContent = c.result.diagnostics.length ? String(c.result.diagnostics.length) : "";
  }
  if (run && c?.result.ok) {
    if (run.status === "running") {
      parts.push(`running… ${((performance.now() - run.started) / 1000).toFixed(1)} s${run.totalIn ? ` · ${run.totalIn.toLocaleString()} records read` : ""}`);
      cls = "running";
    } else if (run.status === "done" && run.result?.summary) {
      const s = run.result.summary;
      const { badInput, runtimeErrors } = skipped(run.result);
      parts.push(`ran in ${ms(run.result.elapsedMs)} · ${s.totalIn} in, ${s.totalOut} out${s.late ? `, ${s.late} late` : ""}${badInput ? `, ${badInput} bad` : ""}${runtimeErrors ? `, ${runtimeErrors} run-time error${runtimeErrors === 1 ? "" : "s"}` : ""}`);
    } else if (run.message) {
      parts.push(run.message);
      cls = run.status === "failed" ? "error" : "stopped";
    }
  }
  el.className = "status " + cls;
  el.textContent = parts.join(" · ");
}

/**
 * The records a run skipped, split: bad input vs. a built-in failing on a record. The runtime
 * counts both as `bad`; the problems list (at most 200) tells them apart.
 */
function skipped(r: RunResult): { badInput: number; runtimeErrors: number } {
  const runtimeErrors = r.problems.filter((p) => p.kind === "runtime").length;
  return { badInput: Math.max(0, (r.summary?.bad ?? 0) - runtimeErrors), runtimeErrors };
}

interface OutputView {
  name: string;
  columns: string[];
  rows: string[];
  total: number;
  /** An updating stream's output: its key fields and changelog lines (see trace.ts). */
  key?: string[];
  changes?: string[];
}

function currentOutputs(): OutputView[] | undefined {
  const run = state.run;
  if (!run) return undefined;
  if (run.result) return run.result.outputs;
  const program = state.compiled?.result.typed;
  if (!run.partial || !program) return undefined;
  return [...run.partial.entries()].map(([name, p]) => ({ name, columns: [], rows: p.rows, total: p.total }));
}

let resultsFrame = 0;
/** Updates Results on the next frame, once however many progress messages arrive before it. */
function scheduleResultsRender() {
  if (!resultsFrame) resultsFrame = requestAnimationFrame(updateRunningResults);
}

/**
 * The outputs Results drew for a running run: progress patches their row counts in place. Once
 * an output keeps no more rows (LIMITS.maxRows) only its count changes; rebuilding the pane
 * every time took the main thread for 50–300 ms (style and layout) while a run streamed rows.
 */
let liveResults: undefined | { runId: number; outputs: Map<string, { count: HTMLElement; kept: number }> };

function updateRunningResults() {
  resultsFrame = 0;
  const run = state.run;
  const outs = currentOutputs();
  const live = liveResults;
  const same = run && outs && live && live.runId === run.id && outs.length === live.outputs.size && outs.every((o) => live.outputs.get(o.name)?.kept === o.rows.length);
  if (!same) {
    renderResults();
    return;
  }
  for (const o of outs) live.outputs.get(o.name)!.count.textContent = rowCountText(o);
}

const rowCountText = (o: OutputView) => ` ${o.total.toLocaleString()} row${o.total === 1 ? "" : "s"}${o.rows.length < o.total ? ` (first ${o.rows.length.toLocaleString()} kept)` : ""}`;

function renderResults() {
  cancelAnimationFrame(resultsFrame);
  resultsFrame = 0;
  liveResults = undefined;
  const pane = $("#pane-results");
  const c = state.compiled;
  const outs = currentOutputs();
  // The tables are rebuilt: keep where each was scrolled to.
  const scrolled = new Map<string, number>();
  pane.querySelectorAll<HTMLElement>("[data-scroll]").forEach((w) => scrolled.set(w.dataset.scroll!, w.scrollTop));
  pane.replaceChildren();
  pane.classList.remove("stale");
  if (c && !c.result.ok) {
    pane.append(h("div", { class: "notice error" }, "The program has errors: see the underlined spans in the editor, or the Problems tab. The last results are hidden until it compiles."));
    return;
  }
  if (nothingToRun(c)) {
    pane.append(
      h("div", { class: "notice empty-state" }, h("b", {}, "Nothing to run yet. "), "A program reads a ", h("code", {}, "source"), " and ", h("code", {}, "emit"), "s rows; pick one from Examples, or start from:", h("pre", { class: "code" }, "source n: int = range(0, 10)\n\nemit n | map it * it")),
    );
    return;
  }
  if (!outs) {
    pane.append(h("div", { class: "notice" }, "Results appear here after a run."));
    return;
  }
  if (resultsStale()) {
    pane.classList.add("stale");
    const again = h("button", { class: "primary" }, "▶ Run");
    again.onclick = () => runNow(true);
    pane.append(h("div", { class: "notice stale-notice", role: "status" }, h("b", {}, "Stale: "), "these results are from an earlier version of the program or its inputs (auto-run is off). ", again));
  }
  if (state.run?.status === "running") pane.append(h("div", { class: "notice running" }, "Running… rows so far:"));
  if (state.run?.message && state.run.status !== "done") pane.append(h("div", { class: `notice ${state.run.status === "failed" ? "error" : "stopped"}` }, state.run.message));
  if (state.run?.result) pane.append(...problemNotices(state.run.result.problems));
  const fills: (() => void)[] = [];
  const live = new Map<string, { count: HTMLElement; kept: number }>();
  for (const o of outs) {
    const { card, fill, count } = outputCard(o, scrolled.get(o.name) ?? 0);
    pane.append(card);
    if (fill) fills.push(fill);
    live.set(o.name, { count, kept: o.rows.length });
  }
  if (state.run?.status === "running") liveResults = { runId: state.run.id, outputs: live };
  // The tables draw their rows once they are in the page (they need their height).
  for (const fill of fills) fill();
}

/** What to say about the records a run could not use: bad input apart from run-time errors. */
function problemNotices(problems: readonly RunProblem[]): HTMLElement[] {
  const out: HTMLElement[] = [];
  const capped = problems.length >= 200 ? "at least " : "";
  const list = (ps: RunProblem[]) => {
    const ul = h("ul", { class: "problem-list" });
    for (const p of ps.slice(0, 5)) {
      const where = p.line !== undefined ? `${p.file}:${p.line}` : p.file;
      const li = h("li", {}, h("code", {}, where), " ", p.message);
      if (p.line !== undefined) {
        // Show that line in the sample-input editor.
        const go = h("button", { class: "link" }, "show");
        go.onclick = () => showInputLine(p.file, p.line!);
        li.append(" ", go);
      }
      ul.append(li);
    }
    if (ps.length > 5) ul.append(h("li", { class: "muted" }, `… ${ps.length - 5} more (Stats has the list)`));
    return ul;
  };
  const bad = problems.filter((p) => p.kind === "bad-input");
  if (bad.length) {
    out.push(h("div", { class: "notice warn", "data-problems": "bad-input" }, h("b", {}, `${capped}${bad.length} bad input record${bad.length === 1 ? "" : "s"} skipped`), " — they do not match the source's type (underlined in the sample input):", list(bad)));
  }
  const runtime = problems.filter((p) => p.kind === "runtime");
  if (runtime.length) {
    out.push(h("div", { class: "notice error", "data-problems": "runtime" }, h("b", {}, `${capped}${runtime.length} record${runtime.length === 1 ? "" : "s"} dropped by a run-time error`), " — the input is valid; an expression of the program failed on it:", list(runtime)));
  }
  return out;
}

function showInputLine(path: string, line: number) {
  if (!state.inputs.some((i) => i.path === path)) return;
  state.activeInput = path;
  renderInputTabs();
  const doc = dataEditor.state.doc;
  if (line > doc.lines) return;
  const l = doc.line(line);
  dataEditor.dispatch({ selection: { anchor: l.from, head: l.to }, scrollIntoView: true });
  dataEditor.focus();
}

/** Parsed rows per output row array; arrays that grow (a running output) are parsed on from where they were. */
const parsedCache = new WeakMap<string[], unknown[]>();
function parsedRows(rows: string[]): unknown[] {
  let values = parsedCache.get(rows);
  if (!values) parsedCache.set(rows, (values = []));
  for (let i = values.length; i < rows.length; i++) {
    try {
      values.push(JSON.parse(rows[i]!));
    } catch {
      values.push(rows[i]);
    }
  }
  return values.length === rows.length ? values : values.slice(0, rows.length);
}

/** The table an updating output's changelog lines leave (the rows, and which keys are deleted). */
function currentTable(changes: readonly string[], key: readonly string[]): { rows: unknown[]; deleted: boolean[] } {
  const at = new Map<string, number>();
  const rows: unknown[] = [];
  const deleted: boolean[] = [];
  for (const line of changes) {
    let c: { op?: string; row?: Record<string, unknown>; key?: Record<string, unknown> };
    try {
      c = JSON.parse(line);
    } catch {
      continue;
    }
    const fields = c.op === "delete" ? c.key : c.row;
    if (!fields) continue;
    const k = JSON.stringify(key.map((f) => fields[f]));
    const i = at.get(k);
    if (c.op === "delete") {
      if (i !== undefined) deleted[i] = true;
      continue;
    }
    if (i === undefined) {
      at.set(k, rows.length);
      rows.push(c.row);
      deleted.push(false);
    } else {
      rows[i] = c.row;
      deleted[i] = false;
    }
  }
  return { rows, deleted };
}

/** Row height of the results tables, in CSS pixels (`.vt td` in style.css). */
const TABLE_ROW_PX = 24;

function outputCard(o: OutputView, scrollTop: number): { card: HTMLElement; count: HTMLElement; fill?: () => void } {
  const view = state.resultView.get(o.name) ?? "table";
  const card = h("section", { class: "output", "data-output": o.name });
  const head = h("div", { class: "output-head" });
  const count = h("span", { class: "muted" }, rowCountText(o));
  head.append(h("span", { class: "output-name" }, o.name), count);
  const toggle = h("span", { class: "seg" });
  const updating = o.changes !== undefined;
  if (updating) head.append(h("span", { class: "stream-kind", title: `an updating stream keyed by ${o.key!.join(", ")}: the table shows each key's current row; deleted rows are struck through` }, `updating · key ${o.key!.join(", ")}`));
  for (const v of updating ? (["table", "changes", "json"] as const) : (["table", "json"] as const)) {
    const b = h("button", { class: v === view ? "active" : "", "data-view": v }, v === "table" ? "Table" : v === "changes" ? "Changelog" : "JSON");
    b.onclick = () => {
      state.resultView.set(o.name, v);
      renderResults();
    };
    toggle.append(b);
  }
  head.append(toggle);
  card.append(head);
  if (view === "json" || (view === "changes" && o.changes)) {
    card.append(h("pre", { class: "json" }, (view === "changes" ? o.changes! : o.rows).join("\n")));
    return { card, count };
  }
  // An updating output's table: every key's current row, in order of first appearance, rows
  // changing in place; a deleted key's last row stays, struck through.
  const table0 = o.changes ? currentTable(o.changes, o.key!) : undefined;
  const values = table0 ? table0.rows : parsedRows(o.rows);
  const deleted = table0?.deleted;
  let columns = o.columns;
  if (columns.length === 0) {
    const set = new Set<string>();
    for (const v of values) if (v && typeof v === "object" && !Array.isArray(v)) for (const k of Object.keys(v)) set.add(k);
    columns = set.size ? [...set] : ["value"];
  }
  const isRec = values.every((v) => v !== null && typeof v === "object" && !Array.isArray(v));
  const cell = (v: unknown, col: string): unknown => (isRec && columns[0] !== "value" ? (v as Record<string, unknown>)[col] : v);
  const order = values.map((_, i) => i);
  const sort = state.sort.get(o.name);
  if (sort) {
    const col = columns[sort.col]!;
    order.sort((a, b) => {
      const x = cell(values[a], col), y = cell(values[b], col);
      const r = typeof x === "number" && typeof y === "number" ? x - y : String(x ?? "").localeCompare(String(y ?? ""), undefined, { numeric: true });
      return sort.desc ? -r : r;
    });
  }
  const table = h("table", { class: "vt" });
  const tr = h("tr");
  columns.forEach((col, ci) => {
    const th = h("th", { title: "sort" }, col, sort?.col === ci ? (sort.desc ? " ▼" : " ▲") : "");
    th.onclick = () => {
      const cur = state.sort.get(o.name);
      state.sort.set(o.name, { col: ci, desc: cur?.col === ci ? !cur.desc : false });
      renderResults();
    };
    tr.append(th);
  });
  table.append(h("thead", {}, tr));
  const body = h("tbody");
  table.append(body);
  const wrap = h("div", { class: "table-wrap", "data-scroll": o.name }, table);
  card.append(wrap);
  // Only the rows in view are in the page (a long output would take the main thread for
  // hundreds of ms per redraw): spacer rows stand for the others, redrawn on scroll.
  const spacer = (px: number) => {
    const s = h("tr", { class: "spacer", "aria-hidden": "true" });
    s.style.height = `${px}px`;
    return s;
  };
  const fill = () => {
    const headPx = table.tHead?.offsetHeight ?? 0;
    // A hidden pane has no height yet: assume the table's usual one (60% of the window).
    const viewport = wrap.clientHeight || window.innerHeight * 0.6;
    const { start, end } = visibleRange(wrap.scrollTop - headPx, viewport, TABLE_ROW_PX, order.length, OVERSCAN_ROWS);
    const rows: HTMLElement[] = [spacer(start * TABLE_ROW_PX)];
    for (let k = start; k < end; k++) {
      const row = h("tr", deleted?.[order[k]!] ? { class: "deleted", title: "deleted" } : {});
      for (const col of columns) {
        const v = cell(values[order[k]!], col);
        row.append(h("td", { class: v === null ? "null" : typeof v === "number" ? "num" : "" }, v === null || v === undefined ? "null" : typeof v === "object" ? JSON.stringify(v) : String(v)));
      }
      rows.push(row);
    }
    rows.push(spacer((order.length - end) * TABLE_ROW_PX));
    body.replaceChildren(...rows);
  };
  let frame = 0;
  wrap.addEventListener("scroll", () => {
    if (!frame) frame = requestAnimationFrame(() => ((frame = 0), fill()));
  });
  return {
    card,
    count,
    fill: () => {
      // Spacers first, so the restored scroll position exists, then the rows there.
      body.replaceChildren(spacer(order.length * TABLE_ROW_PX));
      wrap.scrollTop = scrollTop;
      fill();
    },
  };
}

function renderProblems() {
  const c = state.compiled;
  const pane = $("#pane-problems");
  pane.replaceChildren();
  if (!c) return;
  if (c.result.diagnostics.length === 0) {
    pane.append(h("div", { class: "notice ok" }, "No problems."));
    return;
  }
  const idx = new LineIndex(c.source);
  for (const d of c.result.diagnostics) {
    const at = idx.at(d.span.start);
    const item = h("button", { class: `problem ${d.severity}` });
    item.append(h("span", { class: "sev" }, `${d.severity}[${d.code}]`), ` ${d.message} `, h("span", { class: "muted" }, `${PROGRAM_FILE}:${at.line}:${at.column}`));
    item.onclick = () => {
      editor.dispatch({ selection: { anchor: Math.min(d.span.start, editor.state.doc.length), head: Math.min(d.span.end, editor.state.doc.length) }, scrollIntoView: true });
      editor.focus();
    };
    pane.append(item);
  }
  pane.append(h("div", { class: "muted small" }, "As `flowc check` prints them:"), h("pre", { class: "cli" }, c.diagnosticsText));
}

function renderCode() {
  const c = state.compiled;
  const pane = $("#pane-code");
  if (!c?.result.ok || !c.result.typescript) {
    pane.innerHTML = `<div class="notice">The generated JavaScript appears when the program compiles.</div>`;
    return;
  }
  pane.innerHTML = `<div class="muted small">The module the worker imports from a Blob URL (imports point at the runtime bundle). <code>flowc build</code> prints the same graph as TypeScript.</div><pre class="code">${highlightJs(c.result.typescript)}</pre>`;
}

const JS_WORDS = /\b(?:import|export|from|const|let|var|class|new|return|if|else|for|while|switch|case|break|this|function|true|false|null|undefined|of|in|typeof|constructor)\b/;
function highlightJs(src: string): string {
  const re = /(\/\/[^\n]*|\/\*[\s\S]*?\*\/)|("(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`)|\b(\d+(?:\.\d+)?)\b|([A-Za-z_$][\w$]*)/g;
  let out = "", last = 0;
  for (let m; (m = re.exec(src)); ) {
    out += esc(src.slice(last, m.index));
    last = re.lastIndex;
    if (m[1]) out += `<span class="c">${esc(m[1])}</span>`;
    else if (m[2]) out += `<span class="s">${esc(m[2])}</span>`;
    else if (m[3]) out += `<span class="n">${m[3]}</span>`;
    else out += JS_WORDS.test(m[4]!) && m[4]!.length === m[4]!.match(JS_WORDS)![0].length ? `<span class="k">${m[4]}</span>` : esc(m[4]!);
  }
  return out + esc(src.slice(last));
}

function renderGraph() {
  const c = state.compiled;
  const pane = $("#pane-graph");
  if (!c?.result.ok || !c.result.optimized) {
    pane.innerHTML = `<div class="notice">The optimized dataflow graph appears when the program compiles.</div>`;
    return;
  }
  if (nothingToRun(c)) {
    pane.innerHTML = `<div class="notice empty-state">No graph yet: the program has no <code>emit</code>.</div>`;
    return;
  }
  const run = state.run;
  const counts = run?.result && run.code === c.result.typescript ? new Map(run.result.counts.map((n, i) => [i, n] as [number, number])) : undefined;
  const head = `<div class="pane-head"><span class="muted small">The optimized graph (after fusion, inlining and pruning)${counts ? ", with the rows each operator emitted in the last run" : ""}.</span> <span class="seg"><button data-graph="svg" class="${state.graphText ? "" : "active"}">Drawing</button><button data-graph="text" class="${state.graphText ? "active" : ""}">Text</button></span></div>`;
  const body = state.graphText ? `<pre class="code">${esc(printGraph(c.result.optimized))}</pre>` : `<div class="graph-svg">${toSvg(c.result.optimized, counts ? { counts } : {})}</div>`;
  pane.innerHTML = head + body;
  pane.querySelectorAll<HTMLButtonElement>("[data-graph]").forEach((b) => {
    b.onclick = () => {
      state.graphText = b.dataset.graph === "text";
      renderGraph();
    };
  });
}

function renderStats() {
  const pane = $("#pane-stats");
  const run = state.run;
  const c = state.compiled;
  if (!run?.result) {
    pane.innerHTML = `<div class="notice">${run?.message ? esc(run.message) : "Run statistics appear after a run."}</div>`;
    return;
  }
  const r = run.result;
  const s = r.summary;
  const rows: [string, string][] = [];
  if (s) {
    for (const [k, v] of Object.entries(s.in)) rows.push([`in · ${k}`, v.toLocaleString()]);
    for (const [k, v] of Object.entries(s.out)) rows.push([`out · ${k}`, v.toLocaleString()]);
    const { badInput, runtimeErrors } = skipped(r);
    rows.push(["late (dropped by a window)", String(s.late)], ["bad input records", String(badInput)], ["records dropped by a run-time error", String(runtimeErrors)], ["run time", ms(s.elapsedMs)], ["events/s", Math.round(s.eventsPerSec).toLocaleString()]);
  }
  if (run.loadMs !== undefined) rows.push(["load the generated module (Blob URL import)", ms(run.loadMs)]);
  if (c) rows.push(["compile (parse, check, optimize, print JS)", ms(c.ms)]);
  pane.innerHTML = `<table class="stats">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join("")}</table>${r.error ? `<div class="notice error">${esc(r.error)}</div>` : ""}${r.stderr.trim() ? `<div class="muted small">Bad input (as the CLI reports it on stderr):</div><pre class="cli">${esc(r.stderr.trim())}</pre>` : ""}`;
}

// ---- timeline ----------------------------------------------------------------------------------

let timelineFrame = 0;
function renderTimelinePane() {
  cancelAnimationFrame(timelineFrame);
  timelineFrame = requestAnimationFrame(drawTimeline);
}

function drawTimeline() {
  const m = state.timeline;
  const box = $("#timeline-svg");
  const slider = $<HTMLInputElement>("#scrub");
  const label = $("#scrub-label");
  if (!m || !state.run?.result || nothingToRun(state.compiled)) {
    box.innerHTML = `<div class="notice">${state.compiled && !state.compiled.result.ok ? "Fix the program to see its timeline." : nothingToRun(state.compiled) ? "No timeline yet: the program has no <code>emit</code>." : "Run a program to see its records, watermarks and windows on event time."}</div>`;
    slider.disabled = true;
    label.textContent = "";
    return;
  }
  slider.disabled = false;
  slider.max = String(m.steps);
  slider.value = String(state.step);
  const L = timelineLayout();
  const { svg } = renderTimeline(m, state.step, L);
  box.innerHTML = svg;
  const wms = m.sources.map((s) => `${s.name} ${fmtWm(watermarkAt(s.watermarks, state.step))}`).join(", ");
  label.textContent = `after record ${state.step.toLocaleString()} of ${m.steps.toLocaleString()}${m.prefixMax[state.step]! > -Infinity ? ` · input at ${timeLabel(m.prefixMax[state.step]!)}` : ""} · watermark ${wms}${m.truncated ? " · (the trace keeps the first 5,000 records)" : ""}`;
  if (m.sources.length === 0) box.insertAdjacentHTML("afterbegin", `<div class="notice">This program has no sources.</div>`);
  else if (m.ops.length === 0) box.insertAdjacentHTML("beforeend", `<div class="muted small">No windowed operator in this program: add <code>| window tumbling(10s) | agg n = count()</code> to see windows fill and fire.</div>`);
}

function timelineLayout() {
  const box = $("#timeline-svg");
  const pane = $("#pane-timeline");
  return defaultLayout(box.clientWidth - 4, state.timeline, pane.clientHeight - box.offsetTop - 16);
}

const fmtWm = (wm: number) => (wm === Infinity ? "+∞" : wm === -Infinity ? "—" : timeLabel(wm));

function setStep(s: number) {
  const m = state.timeline;
  if (!m) return;
  state.step = Math.max(0, Math.min(m.steps, Math.round(s)));
  renderTimelinePane();
}

function setupTimeline() {
  const slider = $<HTMLInputElement>("#scrub");
  slider.oninput = () => {
    state.playing = false;
    updatePlay();
    setStep(Number(slider.value));
  };
  $("#play").onclick = () => {
    const m = state.timeline;
    if (!m) return;
    state.playing = !state.playing;
    if (state.playing && state.step >= m.steps) state.step = 0;
    updatePlay();
    let last = performance.now();
    const tick = (now: number) => {
      if (!state.playing || !state.timeline) return;
      const perSec = Math.max(10, state.timeline.steps / 8);
      const adv = ((now - last) / 1000) * perSec;
      if (adv >= 1) {
        last = now;
        setStep(state.step + Math.floor(adv));
      }
      if (state.step >= state.timeline.steps) {
        state.playing = false;
        updatePlay();
        return;
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  };
  $("#rewind").onclick = () => {
    state.playing = false;
    updatePlay();
    setStep(0);
  };
  $("#to-end").onclick = () => {
    state.playing = false;
    updatePlay();
    setStep(state.timeline?.steps ?? 0);
  };
  const box = $("#timeline-svg");
  const card = $("#hover-card");
  let dragging = false;
  const timeAtX = (clientX: number) => {
    const m = state.timeline!;
    const svg = box.querySelector("svg");
    if (!svg) return undefined;
    const r = svg.getBoundingClientRect();
    const L = timelineLayout();
    const pad = (m.t1 - m.t0) * 0.02;
    const frac = (clientX - r.left - L.left) / (L.width - L.left - L.right);
    return m.t0 - pad + frac * (m.t1 - m.t0 + 2 * pad);
  };
  const stepAtY = (clientY: number) => {
    const m = state.timeline!;
    const svg = box.querySelector("svg");
    if (!svg) return undefined;
    const y = clientY - svg.getBoundingClientRect().top;
    const L = timelineLayout();
    const lane = laneTops(m, L).find((l) => l.kind === "source" && y >= l.top && y <= l.top + l.height);
    if (!lane) return undefined;
    return 1 + ((y - lane.top - 6) / (lane.height - 12)) * Math.max(1, m.steps - 1);
  };
  box.addEventListener("pointerdown", (e) => {
    if (!state.timeline || (e.target as Element).closest("[data-hit]")) return;
    dragging = true;
    state.playing = false;
    updatePlay();
    box.setPointerCapture(e.pointerId);
    scrubTo(e);
  });
  const scrubTo = (e: PointerEvent) => {
    // In a source lane, y is the reading order: scrub to that record. Elsewhere, x is event
    // time: scrub to the moment the input reached it.
    const s = stepAtY(e.clientY);
    if (s !== undefined) setStep(s);
    else {
      const t = timeAtX(e.clientX);
      if (t !== undefined) setStep(stepAtTime(state.timeline!, t));
    }
  };
  box.addEventListener("pointermove", (e) => {
    if (dragging) {
      scrubTo(e);
      return;
    }
    const target = (e.target as Element).closest("[data-hit]");
    const m = state.timeline;
    if (!target || !m) {
      card.hidden = true;
      return;
    }
    const d = describeHit(m, target.getAttribute("data-hit")!, state.step);
    if (!d) {
      card.hidden = true;
      return;
    }
    card.hidden = false;
    card.className = "hover-card" + (d.late ? " late" : "");
    card.innerHTML = `<div class="hc-title">${esc(d.title)}</div><pre>${esc(d.body)}</pre>`;
    const pr = $("#pane-timeline").getBoundingClientRect();
    // Beside the pointer, on the side with more room.
    const px = e.clientX - pr.left;
    const x = px > pr.width / 2 ? px - 344 : px + 14;
    card.style.left = `${Math.max(4, Math.min(x, pr.width - 340))}px`;
    const py = e.clientY - pr.top;
    const y = py > card.offsetHeight + 24 ? py - card.offsetHeight - 14 : py + 14;
    card.style.top = `${Math.max(4, y) + $("#pane-timeline").scrollTop}px`;
  });
  box.addEventListener("pointerup", () => (dragging = false));
  box.addEventListener("pointerleave", () => (card.hidden = true));
  window.addEventListener("resize", renderTimelinePane);
}

function updatePlay() {
  $("#play").textContent = state.playing ? "❚❚ Pause" : "▶ Play";
}

// ---- tabs, examples, share, persistence ---------------------------------------------------------

function showPane(name: string) {
  state.pane = name;
  document.querySelectorAll<HTMLElement>("[data-tab]").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  document.querySelectorAll<HTMLElement>(".pane").forEach((p) => (p.hidden = p.id !== `pane-${name}`));
  if (name === "timeline") renderTimelinePane();
  // The results tables size themselves to the visible pane.
  if (name === "results") renderResults();
}

function loadState(program: string, files: Record<string, string>, origin: typeof state.origin, example?: Example) {
  state.origin = origin;
  state.example = example;
  state.files = { ...files };
  state.activeInput = "";
  state.run = undefined;
  state.timeline = undefined;
  state.ranKey = "";
  state.compiled = undefined;
  setDoc(editor, program);
  recompile();
  renderAll();
}

function setupExamples() {
  const sel = $<HTMLSelectElement>("#examples");
  const groups = new Map<string, Example[]>();
  for (const e of EXAMPLES) groups.set(e.group, [...(groups.get(e.group) ?? []), e]);
  sel.append(h("option", { value: "" }, "Examples…"));
  for (const [g, es] of groups) {
    const og = h("optgroup", { label: g });
    for (const e of es) og.append(h("option", { value: e.id, title: e.description }, e.title));
    sel.append(og);
  }
  sel.onchange = () => {
    const e = EXAMPLES.find((x) => x.id === sel.value);
    if (!e) return;
    history.replaceState(null, "", location.pathname + location.search);
    loadState(e.program, e.files, "example", e);
    sel.value = "";
  };
}

async function share() {
  const program = editor.state.doc.toString();
  const files: Record<string, string> = {};
  for (const i of state.inputs) if (i.kind !== "generator" && state.files[i.path] !== undefined) files[i.path] = state.files[i.path]!;
  const frag = await encodeState({ program, files });
  const url = `${location.origin}${location.pathname}${location.search}#${frag}`;
  history.replaceState(null, "", url);
  const box = $("#share-box");
  box.hidden = false;
  const input = $<HTMLInputElement>("#share-url");
  input.value = url;
  input.select();
  let copied = false;
  try {
    await navigator.clipboard.writeText(url);
    copied = true;
  } catch {
    copied = false;
  }
  $("#share-note").textContent = `${copied ? "Copied to the clipboard. " : ""}${url.length.toLocaleString()} characters: the program and its sample inputs, compressed, in the link itself.`;
}

let saveTimer: ReturnType<typeof setTimeout> | undefined;
function saveLocal() {
  clearTimeout(saveTimer);
  saveTimer = setTimeout(() => {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify({ program: editor.state.doc.toString(), files: state.files }));
    } catch {
      // storage full or disabled: the share link still works
    }
  }, 400);
}

interface Initial {
  program: string;
  files: Record<string, string>;
  origin: typeof state.origin;
  example?: Example;
}

async function initialState(): Promise<Initial> {
  if (location.hash.length > 1) {
    const shared = await decodeState(location.hash);
    if (shared) return { ...shared, origin: "share" };
    if (isShareLink(location.hash)) showPageNotice(DAMAGED_LINK);
    const ex = EXAMPLES.find((e) => `#${e.id}` === location.hash || `#example=${e.id}` === location.hash);
    if (ex) return { program: ex.program, files: ex.files, origin: "example", example: ex };
  }
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (saved && typeof saved.program === "string" && saved.program.trim()) {
      const files = saved.files ?? {};
      // Still an example as it ships? Then say which.
      const example = EXAMPLES.find((e) => e.program === saved.program);
      return { program: saved.program, files, origin: example ? "example" : "saved", ...(example ? { example } : {}) };
    }
  } catch {
    // ignore
  }
  const ex = EXAMPLES.find((e) => e.id === DEFAULT_EXAMPLE) ?? EXAMPLES[0];
  return ex ? { program: ex.program, files: ex.files, origin: "example", example: ex } : { program: "", files: {}, origin: "saved" };
}

const DAMAGED_LINK = "This share link could not be read: it may have been cut short or changed when it was copied. The playground opened your last program (or an example) instead.";

/** A dismissable line under the header (e.g. a share link that cannot be decoded). */
function showPageNotice(text: string) {
  const box = $("#page-notice");
  $("#page-notice-text").textContent = text;
  box.hidden = false;
}

/** The line above the editor: which example is loaded (and its description), or where the program came from. */
function renderExampleInfo() {
  const box = $("#example-info");
  const ex = state.example;
  const edited = ex !== undefined && editor.state.doc.toString() !== ex.program;
  box.replaceChildren();
  if (ex) {
    box.append(h("span", { class: "ex-label" }, edited ? "Example (edited)" : "Example"), " ", h("b", { class: "ex-title" }, ex.title), h("span", { class: "muted" }, ` — ${ex.description}`));
  } else if (state.origin === "share") {
    box.append(h("span", { class: "ex-label" }, "Shared"), " ", h("span", { class: "muted" }, "a program and its inputs from a share link"));
  } else {
    box.append(h("span", { class: "ex-label" }, "Your program"), " ", h("span", { class: "muted" }, "kept in this browser"));
  }
}

async function main() {
  document.querySelectorAll<HTMLElement>("[data-tab]").forEach((b) => (b.onclick = () => showPane(b.dataset.tab!)));
  $("#run").onclick = () => runNow(true);
  $("#run-tests").onclick = () => void runTests();
  $("#format").onclick = () => void formatProgram();
  $("#stop").onclick = stopRun;
  $("#share").onclick = () => void share();
  $("#share-close").onclick = () => ($("#share-box").hidden = true);
  $<HTMLInputElement>("#autorun").onchange = () => scheduleRun(0);
  setupExamples();
  setupTimeline();
  worker = startWorker();
  showPane("results");
  $("#page-notice-close").onclick = () => ($("#page-notice").hidden = true);
  const init = await initialState();
  loadState(init.program, init.files, init.origin, init.example);
  window.addEventListener("hashchange", async () => {
    const shared = await decodeState(location.hash);
    if (shared && shared.program !== editor.state.doc.toString()) loadState(shared.program, shared.files, "share");
    else if (!shared && isShareLink(location.hash)) showPageNotice(DAMAGED_LINK);
  });
  document.body.dataset.ready = "true";
}

void main();

// For the end-to-end tests and the curious: the page's state, read-only.
(globalThis as unknown as { flowPlayground: unknown }).flowPlayground = { state, editor, dataEditor };
