// The playground page: a CodeMirror editor compiling Flow on every keystroke (in this page, no
// server), sample inputs per source, a worker that runs the generated JavaScript, and the panes:
// results, timeline, graph, generated code, problems, stats. Share links keep the program and its
// inputs in the URL fragment.
import { EditorState, type Extension } from "@codemirror/state";
import { EditorView, drawSelection, highlightActiveLine, highlightActiveLineGutter, keymap, lineNumbers, placeholder } from "@codemirror/view";
import { defaultKeymap, history as undoHistory, historyKeymap, indentWithTab } from "@codemirror/commands";
import { bracketMatching, indentOnInput } from "@codemirror/language";
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap, type CompletionContext as CmContext, type CompletionResult } from "@codemirror/autocomplete";
import { lintGutter, lintKeymap, setDiagnostics } from "@codemirror/lint";
import { searchKeymap, highlightSelectionMatches } from "@codemirror/search";
import { flowSyntax } from "./lang";
import { completionsAt } from "./complete";
import { PlaygroundCompiler, PROGRAM_FILE, type CompileOutput, type InputInfo } from "./compiler";
import { compile } from "../../compiler/src/pipeline";
import { toSvg } from "../../compiler/src/ir/draw";
import { printGraph } from "../../compiler/src/ir/print";
import { LineIndex } from "../../compiler/src/diagnostics/render";
import type { TypedProgram } from "../../compiler/src/check/typed";
import { decodeState, encodeState } from "./share";
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
  run: undefined as undefined | { id: number; code: string; status: "running" | "done" | "stopped" | "failed"; started: number; result?: RunResult; partial?: Map<string, { rows: string[]; total: number }>; totalIn?: number; message?: string; ended?: number; loadMs?: number },
  ranKey: "",
  runSeq: 0,
  timeline: undefined as TimelineModel | undefined,
  step: 0,
  playing: false,
  pane: "results",
  resultView: new Map<string, "table" | "json">(),
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
      EditorView.updateListener.of((u) => {
        if (u.docChanged) scheduleCompile();
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
    EditorView.contentAttributes.of({ "aria-label": "Sample input" }),
    EditorView.updateListener.of((u) => {
      if (!u.docChanged || !state.activeInput) return;
      state.files[state.activeInput] = u.state.doc.toString();
      updateDataInfo();
      saveLocal();
      scheduleRun(350);
    }),
  ];
}

function setDoc(view: EditorView, text: string) {
  view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
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
  if (out.inputs.length > 0 || !/^\s*(source|table)\b/m.test(source)) state.inputs = out.inputs;
  renderInputTabs();
  renderProblems();
  renderCode();
  renderGraph();
  renderStatus();
  saveLocal();
  if (out.result.ok) scheduleRun(0);
  else renderResults();
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

function scheduleRun(delay: number) {
  if (!($("#autorun") as HTMLInputElement).checked) return;
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

function runNow(force = true) {
  const c = state.compiled;
  if (!c || !c.result.ok || !c.result.typescript) return;
  const key = runKey();
  if (!force && key === state.ranKey && state.run?.status !== "stopped") return;
  state.ranKey = key;
  if (state.run?.status === "running") stopWorker();
  worker ??= startWorker();
  const id = ++state.runSeq;
  state.run = { id, code: c.result.typescript, status: "running", started: performance.now(), partial: new Map() };
  worker.postMessage({ type: "run", id, runtimeUrl, code: c.result.typescript, files: filesFor(c), ops: c.ops, limits: LIMITS } satisfies WorkerRequest);
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
}

function onWorkerMessage(m: WorkerReply) {
  if (m.type === "ready") return;
  const run = state.run;
  if (!run || m.id !== run.id || run.status !== "running") return;
  if (m.type === "progress") {
    applyProgress(run, m.progress);
    renderResults();
    return;
  }
  if (m.type === "failed") {
    finishRun("failed", m.message);
    return;
  }
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
      parts.push(`ran in ${ms(run.result.elapsedMs)} · ${s.totalIn} in, ${s.totalOut} out${s.late ? `, ${s.late} late` : ""}${s.bad ? `, ${s.bad} bad` : ""}`);
    } else if (run.message) {
      parts.push(run.message);
      cls = run.status === "failed" ? "error" : "stopped";
    }
  }
  el.className = "status " + cls;
  el.textContent = parts.join(" · ");
}

interface OutputView {
  name: string;
  columns: string[];
  rows: string[];
  total: number;
}

function currentOutputs(): OutputView[] | undefined {
  const run = state.run;
  if (!run) return undefined;
  if (run.result) return run.result.outputs;
  const program = state.compiled?.result.typed;
  if (!run.partial || !program) return undefined;
  return [...run.partial.entries()].map(([name, p]) => ({ name, columns: [], rows: p.rows, total: p.total }));
}

function renderResults() {
  const pane = $("#pane-results");
  const c = state.compiled;
  const outs = currentOutputs();
  pane.replaceChildren();
  if (c && !c.result.ok) {
    pane.append(h("div", { class: "notice error" }, "The program has errors: see the underlined spans in the editor, or the Problems tab. The last results are hidden until it compiles."));
    return;
  }
  if (!outs) {
    pane.append(h("div", { class: "notice" }, "Results appear here after a run."));
    return;
  }
  if (state.run?.status === "running") pane.append(h("div", { class: "notice running" }, "Running… rows so far:"));
  if (state.run?.message && state.run.status !== "done") pane.append(h("div", { class: `notice ${state.run.status === "failed" ? "error" : "stopped"}` }, state.run.message));
  for (const o of outs) pane.append(outputCard(o));
}

function parsedRows(rows: string[]): unknown[] {
  return rows.map((r) => {
    try {
      return JSON.parse(r);
    } catch {
      return r;
    }
  });
}

function outputCard(o: OutputView): HTMLElement {
  const view = state.resultView.get(o.name) ?? "table";
  const card = h("section", { class: "output", "data-output": o.name });
  const head = h("div", { class: "output-head" });
  head.append(h("span", { class: "output-name" }, o.name), h("span", { class: "muted" }, ` ${o.total.toLocaleString()} row${o.total === 1 ? "" : "s"}${o.rows.length < o.total ? ` (first ${o.rows.length.toLocaleString()} shown)` : ""}`));
  const toggle = h("span", { class: "seg" });
  for (const v of ["table", "json"] as const) {
    const b = h("button", { class: v === view ? "active" : "", "data-view": v }, v === "table" ? "Table" : "JSON");
    b.onclick = () => {
      state.resultView.set(o.name, v);
      renderResults();
    };
    toggle.append(b);
  }
  head.append(toggle);
  card.append(head);
  if (view === "json") {
    card.append(h("pre", { class: "json" }, o.rows.join("\n")));
    return card;
  }
  const values = parsedRows(o.rows);
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
  const table = h("table");
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
  for (const i of order.slice(0, 1000)) {
    const row = h("tr");
    for (const col of columns) {
      const v = cell(values[i], col);
      const td = h("td", { class: v === null ? "null" : typeof v === "number" ? "num" : "" }, v === null || v === undefined ? "null" : typeof v === "object" ? JSON.stringify(v) : String(v));
      row.append(td);
    }
    body.append(row);
  }
  table.append(body);
  card.append(h("div", { class: "table-wrap" }, table));
  if (o.rows.length > 1000) card.append(h("div", { class: "muted small" }, `the table shows 1,000 rows; the JSON view has ${o.rows.length.toLocaleString()}`));
  return card;
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
    rows.push(["late (dropped by a window)", String(s.late)], ["bad input records", String(s.bad)], ["run time", ms(s.elapsedMs)], ["events/s", Math.round(s.eventsPerSec).toLocaleString()]);
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
  if (!m || !state.run?.result) {
    box.innerHTML = `<div class="notice">${state.compiled && !state.compiled.result.ok ? "Fix the program to see its timeline." : "Run a program to see its records, watermarks and windows on event time."}</div>`;
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
}

function loadState(program: string, files: Record<string, string>) {
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
    loadState(e.program, e.files);
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

async function initialState(): Promise<{ program: string; files: Record<string, string> }> {
  if (location.hash.length > 1) {
    const shared = await decodeState(location.hash);
    if (shared) return shared;
    const ex = EXAMPLES.find((e) => `#${e.id}` === location.hash || `#example=${e.id}` === location.hash);
    if (ex) return ex;
  }
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? "null");
    if (saved && typeof saved.program === "string" && saved.program.trim()) return { program: saved.program, files: saved.files ?? {} };
  } catch {
    // ignore
  }
  return EXAMPLES.find((e) => e.id === DEFAULT_EXAMPLE) ?? EXAMPLES[0] ?? { program: "", files: {} };
}

async function main() {
  document.querySelectorAll<HTMLElement>("[data-tab]").forEach((b) => (b.onclick = () => showPane(b.dataset.tab!)));
  $("#run").onclick = () => runNow(true);
  $("#stop").onclick = stopRun;
  $("#share").onclick = () => void share();
  $("#share-close").onclick = () => ($("#share-box").hidden = true);
  $<HTMLInputElement>("#autorun").onchange = () => scheduleRun(0);
  setupExamples();
  setupTimeline();
  worker = startWorker();
  showPane("results");
  const init = await initialState();
  loadState(init.program, init.files);
  window.addEventListener("hashchange", async () => {
    const shared = await decodeState(location.hash);
    if (shared && shared.program !== editor.state.doc.toString()) loadState(shared.program, shared.files);
  });
  document.body.dataset.ready = "true";
}

void main();

// For the end-to-end tests and the curious: the page's state, read-only.
(globalThis as unknown as { flowPlayground: unknown }).flowPlayground = { state, editor, dataEditor };
