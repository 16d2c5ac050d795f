// The timeline: event time on the x axis. Per source a lane of records — x = event time, y = the
// order records were read (processing time, top to bottom) — with the source's watermark as a
// staircase; per windowed operator its windows as bars that fill as records arrive and turn green
// when the watermark fires them; late records in red. `step` (records read so far) is the scrub
// position: everything is drawn as it was right after that record. DOM-free (an SVG string), so
// the unit tests render it on Node; main.ts adds the slider, hover and drag.
import type { OpInfo, Trace, WindowInfo } from "./trace";

export interface WindowBar {
  start: number;
  end: number;
  /** Row of the lane (hop windows overlap; sessions are per key). */
  row: number;
  /** Steps at which records were added (sorted). */
  adds: number[];
  /** Step when the operator's watermark passed the window's end (it fired), if it did. */
  fireStep?: number;
  /** The rows the window produced (JSON). */
  rows: string[];
  /** The step each of `rows` was emitted at (a window's rows are not shown before it fires). */
  rowSteps: number[];
  /** Window joins: the steps of `adds` per input side (left, right). */
  sides?: [number[], number[]];
  /** Outer and anti window joins (§13): the steps of the rows emitted without a partner. */
  unmatched?: number[];
  /** Session windows: the key, as text. */
  key?: string;
}

/** A row that reached an interval join, on its side's row of the lane. */
export interface JoinDot {
  step: number;
  t: number;
  side: 0 | 1;
  json?: string;
  late?: boolean;
}

/**
 * A row an outer or anti join emitted without a partner (LANGUAGE.md §13): padded with nulls
 * (`unmatched`), or reported because no partner came within the bound (`absent`), on its side's
 * row of the lane at its time (the bound's end).
 */
export interface Released {
  step: number;
  t: number;
  side: 0 | 1;
  kind: "unmatched" | "absent";
  json: string;
}

export interface OpLane {
  op: OpInfo;
  rows: number;
  windows: WindowBar[];
  /** Session windows: the key(s) on each row of the lane, drawn left of it. */
  rowKeys?: string[];
  /** Interval joins: the rows of both sides, and the pairs matched (indices into `dots`). */
  join?: { dots: JoinDot[]; pairs: { step: number; left: number; right: number }[]; released?: Released[] };
  late: { step: number; t: number; json?: string }[];
  /** The operator's watermark after each change: [step, wm] (wm null = +∞). */
  watermarks: { step: number; wm: number | null }[];
  maxCount: number;
}

export interface SourceLane {
  name: string;
  timed: boolean;
  field?: string;
  delay: number;
  records: { step: number; t: number; json: string; late?: boolean }[];
  watermarks: { step: number; wm: number | null }[];
}

export interface TimelineModel {
  steps: number;
  truncated: boolean;
  t0: number;
  t1: number;
  sources: SourceLane[];
  ops: OpLane[];
  /** prefixMax[s] = the largest event time read up to step s (for "scrub to a time"). */
  prefixMax: Float64Array;
}

const MAX_SESSION_ROWS = 8;

/** Windows a record at `t` belongs to (tumbling / hop, aligned to the epoch). */
export function windowsOf(t: number, w: WindowInfo): [number, number][] {
  if (w.carried) return [[t + 1 - w.size, t + 1]];
  const slide = w.kind === "hop" ? w.slide : w.size;
  const out: [number, number][] = [];
  const last = Math.floor(t / slide) * slide;
  for (let s = last; s > t - w.size; s -= slide) out.unshift([s, s + w.size]);
  return out;
}

const upperBound = (xs: number[], v: number) => {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (xs[m]! <= v) lo = m + 1;
    else hi = m;
  }
  return lo;
};

/** The watermark in force after step `step` (−∞ before the first one, null = +∞). */
export function watermarkAt(wms: { step: number; wm: number | null }[], step: number): number {
  let lo = 0, hi = wms.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (wms[m]!.step <= step) lo = m + 1;
    else hi = m;
  }
  if (lo === 0) return -Infinity;
  const wm = wms[lo - 1]!.wm;
  return wm === null ? Infinity : wm;
}

function parseRow(json: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(json);
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

export function buildTimeline(trace: Trace, ops: OpInfo[]): TimelineModel {
  let t0 = Infinity, t1 = -Infinity;
  const prefix = new Float64Array(trace.steps + 1).fill(-Infinity);
  for (const s of trace.sources) for (const r of s.records) {
    if (r.t < t0) t0 = r.t;
    if (r.t > t1) t1 = r.t;
    if (r.step <= trace.steps) prefix[r.step] = Math.max(prefix[r.step]!, r.t);
  }
  for (let i = 1; i < prefix.length; i++) prefix[i] = Math.max(prefix[i]!, prefix[i - 1]!);

  const lanes: OpLane[] = [];
  for (const op of ops) {
    const ot = trace.ops.find((o) => o.id === op.id);
    if (!ot) continue;
    if (op.interval) {
      // Interval join: no windows; each side's rows on a row of the lane, pairs as links.
      const dots: JoinDot[] = ot.pushes.map((p) => ({ step: p.step, t: p.t, side: p.side ?? 0, ...(p.json ? { json: p.json } : {}), ...(p.late ? { late: true } : {}) }));
      const released = op.joinKind ? releasedRows(op.joinKind, ot.emits) : undefined;
      lanes.push({ op, rows: 2, windows: [], join: { dots, pairs: ot.pairs ?? [], ...(released ? { released } : {}) }, late: [], watermarks: ot.advances, maxCount: 1 });
      continue;
    }
    const window = op.window;
    if (!window) continue;
    const fireAt = (end: number): number | undefined => {
      for (const a of ot.advances) if (a.wm === null || a.wm >= end) return a.step;
      return undefined;
    };
    const late: OpLane["late"] = [];
    const windows = new Map<string, WindowBar>();
    if (window.kind === "session") {
      // Session bounds are known from the rows they fire (window_start/window_end); a session
      // is per key (the group keys, read from the fired row and from each pushed record).
      const keyOf = (row: Record<string, unknown> | undefined) => (row ? op.keys.map((k) => (k in row ? `${k} ${JSON.stringify(row[k])}` : "")).join(", ") : "");
      const keys = new Map<string, number>();
      for (const e of ot.emits) {
        const row = parseRow(e.json);
        const ws = row?.window_start, we = row?.window_end;
        if (typeof ws !== "number" || typeof we !== "number") continue;
        const keyText = keyOf(row);
        if (!keys.has(keyText)) keys.set(keyText, keys.size);
        const id = `${ws}:${we}:${keyText}`;
        const bar = windows.get(id) ?? { start: ws, end: we, row: keys.get(keyText)! % MAX_SESSION_ROWS, adds: [], rows: [], rowSteps: [], ...(keyText ? { key: keyText } : {}), fireStep: e.step };
        bar.rows.push(e.json);
        bar.rowSteps.push(e.step);
        windows.set(id, bar);
      }
      const bars = [...windows.values()];
      for (const p of ot.pushes) {
        if (p.late) {
          late.push({ step: p.step, t: p.t, ...(p.json ? { json: p.json } : {}) });
          continue;
        }
        const k = p.json ? keyOf(parseRow(p.json)) : undefined;
        const fits = (b: WindowBar) => b.start <= p.t && p.t < b.end && (b.fireStep ?? Infinity) >= p.step;
        const bar = bars.find((b) => fits(b) && (k === undefined || (b.key ?? "") === k)) ?? bars.find(fits);
        bar?.adds.push(p.step);
      }
      if (t1 >= t0) for (const b of bars) {
        t0 = Math.min(t0, b.start);
        t1 = Math.max(t1, b.end);
      }
    } else {
      const slide = window.kind === "hop" ? window.slide : window.size;
      const rowsPerLane = window.kind === "hop" ? Math.max(1, Math.round(window.size / slide)) : 1;
      let ai = 0;
      let wm = -Infinity;
      for (const p of ot.pushes) {
        while (ai < ot.advances.length && ot.advances[ai]!.step < p.step) {
          const a = ot.advances[ai++]!;
          wm = a.wm === null ? Infinity : a.wm;
        }
        if (p.late) {
          late.push({ step: p.step, t: p.t, ...(p.json ? { json: p.json } : {}) });
          continue;
        }
        for (const [s, e] of windowsOf(p.t, window)) {
          if (e <= wm && !window.carried) continue;
          const id = `${s}`;
          let bar = windows.get(id);
          if (!bar) {
            bar = { start: s, end: e, row: rowsPerLane > 1 ? (((Math.floor(s / slide) % rowsPerLane) + rowsPerLane) % rowsPerLane) : 0, adds: [], rows: [], rowSteps: [], ...(op.kind === "join" ? { sides: [[], []] as [number[], number[]] } : {}) };
            const f = fireAt(e);
            if (f !== undefined) bar.fireStep = f;
            windows.set(id, bar);
          }
          bar.adds.push(p.step);
          bar.sides?.[p.side ?? 0].push(p.step);
        }
      }
      // The rows each window produced: fired rows carry time end − 1; `distinct` emits on arrival.
      const sorted = [...windows.values()].sort((a, b) => a.start - b.start);
      for (const e of ot.emits) {
        const bar = op.kind === "distinct" ? sorted.find((b) => b.start <= e.t && e.t < b.end) : windows.get(String(e.t + 1 - window.size));
        bar?.rows.push(e.json);
        bar?.rowSteps.push(e.step);
        // An outer window join's padded rows, an anti join's every row: as interval joins mark them.
        if (bar && op.joinKind && releasedRows(op.joinKind, [e]).length > 0) (bar.unmatched ??= []).push(e.step);
      }
      for (const b of sorted) {
        t0 = Math.min(t0, b.start);
        t1 = Math.max(t1, b.end);
      }
    }
    const ws = [...windows.values()];
    for (const b of ws) b.adds.sort((x, y) => x - y);
    const rows = window.kind === "hop" ? Math.max(1, Math.round(window.size / window.slide)) : window.kind === "session" ? Math.max(1, Math.min(MAX_SESSION_ROWS, new Set(ws.map((w) => w.row)).size)) : 1;
    const lane: OpLane = { op, rows, windows: ws, late, watermarks: ot.advances, maxCount: Math.max(1, ...ws.map((w) => w.adds.length)) };
    if (window.kind === "session") {
      // Keys share a row past MAX_SESSION_ROWS: the label lists them.
      const perRow: string[][] = Array.from({ length: rows }, () => []);
      for (const w of ws) if (w.key && !perRow[w.row]?.includes(w.key)) perRow[w.row]?.push(w.key);
      lane.rowKeys = perRow.map((ks) => (ks.length > 2 ? `${ks.slice(0, 2).join(", ")}…` : ks.join(", ")));
    }
    lanes.push(lane);
  }
  if (!(t1 >= t0)) {
    t0 = 0;
    t1 = 1000;
  }
  if (t1 === t0) t1 = t0 + 1000;
  return {
    steps: trace.steps,
    truncated: trace.truncated,
    t0,
    t1,
    sources: trace.sources.map((s) => ({ name: s.name, timed: s.timed, ...(s.field ? { field: s.field } : {}), delay: s.delay, records: s.records, watermarks: s.watermarks })),
    ops: lanes,
    prefixMax: prefix,
  };
}

/** The step to show for event time `t`: the last record read before the input passed `t`. */
export function stepAtTime(m: TimelineModel, t: number): number {
  let lo = 0, hi = m.steps;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (m.prefixMax[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// ---- rendering -----------------------------------------------------------------------------------

export interface Layout {
  width: number;
  left: number;
  right: number;
  axisH: number;
  srcH: number;
  barH: number;
  gap: number;
}

/** The layout for a pane `width` wide; source lanes share what `height` the window lanes leave. */
export function defaultLayout(width: number, m?: TimelineModel, height = 0): Layout {
  const L: Layout = { width: Math.max(480, width), left: 16, right: 16, axisH: 34, srcH: 150, barH: 18, gap: 34 };
  // Room on the left for the keys of session rows.
  const keyChars = Math.max(0, ...(m?.ops ?? []).flatMap((o) => (o.rowKeys ?? []).map((k) => k.length)));
  if (keyChars > 0) L.left = 16 + Math.min(150, Math.ceil(keyChars * 6.2));
  if (m && m.sources.length > 0 && height > 0) {
    const ops = m.ops.reduce((a, o) => a + opLaneHeight(o, L) + L.gap, 0);
    const free = height - L.axisH - 28 - ops - m.sources.length * L.gap;
    L.srcH = Math.max(110, Math.min(340, Math.floor(free / m.sources.length)));
  }
  return L;
}

const TICKS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000, 21_600_000, 43_200_000, 86_400_000];

export function niceTicks(t0: number, t1: number, maxTicks: number): { step: number; ticks: number[] } {
  const span = t1 - t0;
  const step = TICKS.find((s) => span / s <= maxTicks) ?? Math.ceil(span / maxTicks / 86_400_000) * 86_400_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / step) * step; t <= t1; t += step) ticks.push(t);
  return { step, ticks };
}

export function timeLabel(t: number, step = 1): string {
  if (!Number.isFinite(t)) return t > 0 ? "+∞" : "−∞";
  const iso = new Date(t).toISOString();
  if (step >= 86_400_000) return iso.slice(0, 10);
  if (step >= 60_000) return iso.slice(11, 16);
  if (step >= 1000) return iso.slice(11, 19);
  return iso.slice(11, 23);
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);

export interface Rendered {
  svg: string;
  height: number;
}

/** An operator lane's height: its rows of window bars, or an interval join's two rows of dots. */
const opLaneHeight = (o: OpLane, L: Layout) => (o.join ? 64 : o.rows * (L.barH + 4) + 14);

/** Which lane and what a y coordinate is in (for drag and hover). */
export function laneTops(m: TimelineModel, L: Layout): { kind: "source" | "op"; index: number; top: number; height: number }[] {
  const out: { kind: "source" | "op"; index: number; top: number; height: number }[] = [];
  // Each lane has a title line above it.
  let y = L.axisH + 8 + 20;
  m.sources.forEach((_, i) => {
    out.push({ kind: "source", index: i, top: y, height: L.srcH });
    y += L.srcH + L.gap;
  });
  m.ops.forEach((o, i) => {
    const h = opLaneHeight(o, L);
    out.push({ kind: "op", index: i, top: y, height: h });
    y += h + L.gap;
  });
  return out;
}

export function renderTimeline(m: TimelineModel, step: number, L: Layout): Rendered {
  const W = L.width;
  const x0 = L.left, x1 = W - L.right;
  const pad = (m.t1 - m.t0) * 0.02;
  const d0 = m.t0 - pad, d1 = m.t1 + pad;
  const X = (t: number) => x0 + ((Math.max(d0, Math.min(d1, t)) - d0) / (d1 - d0)) * (x1 - x0);
  const parts: string[] = [];
  const lanes = laneTops(m, L);
  const last = lanes[lanes.length - 1];
  const height = (last ? last.top + last.height : L.axisH + 40) + 24;

  // axis
  const { step: tickStep, ticks } = niceTicks(d0, d1, Math.max(2, Math.floor((x1 - x0) / 90)));
  parts.push(`<g class="axis">`);
  for (const t of ticks) {
    const x = X(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${L.axisH - 6}" y2="${height - 16}" stroke="#e2e8f0"/>`);
    parts.push(`<text x="${x}" y="${L.axisH - 12}" text-anchor="middle" fill="#475569">${timeLabel(t, tickStep)}</text>`);
  }
  parts.push(`<text x="${x1}" y="11" text-anchor="end" fill="#94a3b8" font-size="11">event time → (UTC${ticks.length ? ", " + new Date(ticks[0]!).toISOString().slice(0, 10) : ""})</text>`);
  parts.push(`</g>`);

  const fmtWm = (wm: number) => (wm === Infinity ? "+∞ (ended)" : wm === -Infinity ? "none yet" : timeLabel(wm));

  // source lanes
  m.sources.forEach((s, i) => {
    const lane = lanes.find((l) => l.kind === "source" && l.index === i)!;
    const top = lane.top, h = lane.height;
    const Y = (st: number) => top + 6 + ((st - 1) / Math.max(1, m.steps - 1)) * (h - 12);
    const wm = watermarkAt(s.watermarks, step);
    const read = s.records.filter((r) => r.step <= step).length;
    const lateN = s.records.filter((r) => r.late && r.step <= step).length;
    parts.push(`<g class="lane source" data-lane="s${i}">`);
    parts.push(`<text x="${x0}" y="${top - 7}" class="lane-title"><tspan font-weight="600" fill="#1e3a8a">source ${esc(s.name)}</tspan><tspan fill="#64748b"> · ${s.timed ? `event time ${esc(s.field ?? "")}, watermark ${s.delay / 1000}s` : "arrival time"} · ${read} of ${s.records.length} read${lateN ? ` · ` : ""}</tspan>${lateN ? `<tspan fill="#dc2626" font-weight="600">${lateN} late</tspan>` : ""}<tspan fill="#b45309"> · watermark ${esc(fmtWm(wm))}</tspan></text>`);
    parts.push(`<rect x="${x0}" y="${top}" width="${x1 - x0}" height="${h}" rx="6" fill="#f8fafc" stroke="#e2e8f0"/>`);
    // the region the watermark has passed
    if (Number.isFinite(wm)) parts.push(`<rect x="${x0}" y="${top}" width="${(X(wm) - x0).toFixed(1)}" height="${h}" rx="6" fill="#fef3c7" opacity="0.55"/>`);
    // dots: read ones solid, the rest faint
    const dots: string[] = [];
    const faint: string[] = [];
    s.records.forEach((r, k) => {
      const cx = X(r.t).toFixed(1), cy = Y(r.step).toFixed(1);
      if (r.step > step) faint.push(`<circle cx="${cx}" cy="${cy}" r="2.2" data-hit="s${i}:${k}"/>`);
      else if (r.late) dots.push(`<circle cx="${cx}" cy="${cy}" r="4.5" fill="#dc2626" stroke="#fff" stroke-width="1.2" class="late" data-hit="s${i}:${k}"/>`);
      else dots.push(`<circle cx="${cx}" cy="${cy}" r="3.2" data-hit="s${i}:${k}"/>`);
    });
    parts.push(`<g fill="#cbd5e1" opacity="0.7">${faint.join("")}</g>`);
    parts.push(`<g fill="#2563eb" fill-opacity="0.85">${dots.join("")}</g>`);
    // watermark staircase (y = when it rose, x = its value)
    const pts: string[] = [];
    let prevX: string | undefined;
    for (const w of s.watermarks) {
      if (w.wm === null || w.step > step) break;
      const x = X(w.wm).toFixed(1), y = Y(w.step).toFixed(1);
      if (prevX !== undefined) pts.push(`L${prevX},${y}`);
      pts.push(`${pts.length ? "L" : "M"}${x},${y}`);
      prevX = x;
    }
    if (prevX !== undefined) pts.push(`L${prevX},${Y(Math.max(1, step)).toFixed(1)}`);
    if (pts.length) parts.push(`<path d="${pts.join(" ")}" fill="none" stroke="#d97706" stroke-width="2" stroke-linejoin="round"/>`);
    // "now": the last record read
    if (step > 0 && step <= m.steps) {
      const y = Y(step).toFixed(1);
      parts.push(`<line x1="${x0}" x2="${x1}" y1="${y}" y2="${y}" stroke="#0f172a" stroke-opacity="0.35" stroke-dasharray="3 3"/>`);
    }
    if (Number.isFinite(wm)) {
      const x = X(wm).toFixed(1);
      parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + h}" stroke="#d97706" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    }
    parts.push(`</g>`);
  });

  // operator lanes
  m.ops.forEach((o, i) => {
    const lane = lanes.find((l) => l.kind === "op" && l.index === i)!;
    if (o.join) {
      parts.push(renderJoinLane(o, i, lane.top, lane.height, step, X, x0, x1, fmtWm));
      return;
    }
    const top = lane.top, h = lane.height;
    const wm = watermarkAt(o.watermarks, step);
    const fired = o.windows.filter((w) => w.fireStep !== undefined && w.fireStep <= step).length;
    const open = o.windows.filter((w) => (w.fireStep === undefined || w.fireStep > step) && (w.adds[0] ?? Infinity) <= step).length;
    const late = o.late.filter((l) => l.step <= step);
    parts.push(`<g class="lane op" data-lane="o${i}">`);
    parts.push(`<text x="${x0}" y="${top - 7}"><tspan font-weight="600" fill="#92400e">${esc(o.op.kind)} ${esc(o.op.window ? windowLabel(o.op.window) : "")}</tspan><tspan fill="#64748b"> · line ${o.op.line} · ${open} open, ${fired} fired</tspan>${late.length ? `<tspan fill="#dc2626" font-weight="600"> · ${late.length} late</tspan>` : ""}<tspan fill="#b45309"> · watermark ${esc(fmtWm(wm))}</tspan></text>`);
    parts.push(`<rect x="${x0}" y="${top}" width="${x1 - x0}" height="${h}" rx="6" fill="#fffbeb" stroke="#fde68a"/>`);
    o.rowKeys?.forEach((k, r) => {
      if (k) parts.push(`<text class="row-key" x="${x0 - 5}" y="${top + 7 + r * (L.barH + 4) + L.barH - 5}" text-anchor="end" font-size="10.5" fill="#475569">${esc(k)}</text>`);
    });
    if (Number.isFinite(wm)) parts.push(`<rect x="${x0}" y="${top}" width="${(X(wm) - x0).toFixed(1)}" height="${h}" rx="6" fill="#fde68a" opacity="0.3"/>`);
    o.windows.forEach((w, k) => {
      const count = upperBound(w.adds, step);
      const isFired = w.fireStep !== undefined && w.fireStep <= step;
      if (count === 0 && !isFired) return;
      const bx = X(w.start), bw = Math.max(2, X(w.end) - X(w.start) - 1.5);
      const by = top + 7 + w.row * (L.barH + 4);
      const frac = Math.min(1, count / o.maxCount);
      const fh = Math.max(2, frac * (L.barH - 2));
      const justFired = isFired && step - w.fireStep! < Math.max(3, m.steps / 40);
      parts.push(`<g class="win${isFired ? " fired" : ""}" data-hit="o${i}:${k}">`);
      parts.push(`<rect x="${bx.toFixed(1)}" y="${by}" width="${bw.toFixed(1)}" height="${L.barH}" rx="3" fill="${isFired ? "#dcfce7" : "#fff"}" stroke="${isFired ? "#16a34a" : "#d97706"}" stroke-width="${justFired ? 2.5 : 1.2}"${isFired ? "" : ` stroke-dasharray="4 2"`}/>`);
      parts.push(`<rect x="${(bx + 1).toFixed(1)}" y="${(by + L.barH - 1 - fh).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${fh.toFixed(1)}" rx="2" fill="${isFired ? "#22c55e" : "#f59e0b"}" opacity="${isFired ? 0.75 : 0.55}"/>`);
      const label = barLabel(w, step, isFired, o.op.joinKind);
      if (bw > label.length * 6 + 8) parts.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${by + L.barH - 5}" text-anchor="middle" font-size="10.5" fill="${isFired ? "#14532d" : "#78350f"}" font-weight="600">${esc(label)}</text>`);
      else if (bw > 26) parts.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${by + L.barH - 5}" text-anchor="middle" font-size="10.5" fill="${isFired ? "#14532d" : "#78350f"}" font-weight="600">${isFired ? "✓ " : ""}${count}</text>`);
      // Rows emitted without a partner: a hollow square at the window's end, as on an interval join's lane.
      if (isFired && (w.unmatched ?? []).some((s) => s <= step)) {
        const color = o.op.joinKind === "anti" ? "#dc2626" : "#9333ea";
        parts.push(`<rect class="released ${o.op.joinKind === "anti" ? "absent" : "unmatched"}" x="${(bx + bw - 9).toFixed(1)}" y="${by + 2}" width="7" height="7" fill="#fff" stroke="${color}" stroke-width="1.5" stroke-dasharray="2 1.5"/>`);
      }
      parts.push(`<title>${esc(label)}</title>`);
      parts.push(`</g>`);
    });
    for (const l of late) {
      const x = X(l.t), y = top + h - 7;
      parts.push(`<path d="M${(x - 4).toFixed(1)},${y - 4} L${(x + 4).toFixed(1)},${y + 4} M${(x - 4).toFixed(1)},${y + 4} L${(x + 4).toFixed(1)},${y - 4}" stroke="#dc2626" stroke-width="2"/>`);
    }
    if (Number.isFinite(wm)) {
      const x = X(wm).toFixed(1);
      parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + h}" stroke="#d97706" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    }
    parts.push(`</g>`);
  });

  const svg = `<svg xmlns="http://www.w3.org/2000/svg" class="timeline-svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="system-ui, sans-serif" font-size="12">${parts.join("")}</svg>`;
  return { svg, height };
}

/** "within [−5s, +5s]" for an interval join's bounds. */
export function intervalLabel(iv: NonNullable<OpInfo["interval"]>): string {
  const d = (ms: number) => (!Number.isFinite(ms) ? (ms > 0 ? "+∞" : "−∞") : `${ms < 0 ? "−" : ms > 0 ? "+" : ""}${Math.abs(ms) % 1000 === 0 ? `${Math.abs(ms) / 1000}s` : `${Math.abs(ms)}ms`}`);
  return `within [${d(iv.lower)}, ${d(iv.upper)}]`;
}

/**
 * What a window's bar says at `step`: its records so far (a window join's per side, "L 3 · R 2",
 * and once fired the rows it joined, those without a partner said apart); a session's key first.
 */
export function barLabel(w: WindowBar, step: number, fired: boolean, joinKind?: OpInfo["joinKind"]): string {
  const count = upperBound(w.adds, step);
  const rowsOut = fired ? w.rowSteps.filter((s) => s <= step).length : 0;
  const alone = fired ? (w.unmatched ?? []).filter((s) => s <= step).length : 0;
  const aloneText = alone === 0 ? "" : joinKind === "anti" ? " without a match" : `, ${alone} unmatched`;
  const body = w.sides
    ? `L ${upperBound(w.sides[0], step)} · R ${upperBound(w.sides[1], step)}${fired ? ` → ${rowsOut} row${rowsOut === 1 ? "" : "s"}${aloneText}` : ""}`
    : `${fired ? "✓ " : ""}${count}`;
  return w.key ? `${w.key} · ${body}` : body;
}

/**
 * The rows an outer join emitted padded (the missing side's alias is null: the left sides come
 * first in a joined row, the right alias last) and every row of an anti join (none matched).
 */
export function releasedRows(kind: NonNullable<OpInfo["joinKind"]>, emits: readonly { step: number; t: number; json: string }[]): Released[] {
  if (kind === "semi") return [];
  const out: Released[] = [];
  for (const e of emits) {
    if (kind === "anti") {
      out.push({ step: e.step, t: e.t, side: 0, kind: "absent", json: e.json });
      continue;
    }
    let row: unknown;
    try {
      row = JSON.parse(e.json);
    } catch {
      continue;
    }
    if (row === null || typeof row !== "object") continue;
    const values = Object.values(row as Record<string, unknown>);
    if (values.length < 2) continue;
    if (values[values.length - 1] === null) out.push({ step: e.step, t: e.t, side: 0, kind: "unmatched", json: e.json });
    else if (values.slice(0, -1).some((v) => v === null)) out.push({ step: e.step, t: e.t, side: 1, kind: "unmatched", json: e.json });
  }
  return out;
}

/** An interval join's lane: left rows on the top row, right rows below, a line per pair matched. */
function renderJoinLane(o: OpLane, i: number, top: number, h: number, step: number, X: (t: number) => number, x0: number, x1: number, fmtWm: (wm: number) => string): string {
  const join = o.join!;
  const parts: string[] = [];
  const rowY = [top + 14, top + h - 14];
  const wm = watermarkAt(o.watermarks, step);
  const seen = [0, 0];
  for (const d of join.dots) if (d.step <= step) seen[d.side]!++;
  const pairs = join.pairs.filter((p) => p.step <= step);
  parts.push(`<g class="lane op join" data-lane="o${i}">`);
  const unmatched = (join.released ?? []).filter((r) => r.step <= step).length;
  const kind = o.op.joinKind ? `${o.op.joinKind} ` : "";
  const releasedText = o.op.joinKind && o.op.joinKind !== "semi" ? `<tspan fill="${o.op.joinKind === "anti" ? "#dc2626" : "#9333ea"}"> · ${unmatched} ${o.op.joinKind === "anti" ? "without a match" : "unmatched"}</tspan>` : "";
  parts.push(`<text x="${x0}" y="${top - 7}"><tspan font-weight="600" fill="#92400e">${kind}join ${esc(o.op.interval ? intervalLabel(o.op.interval) : "")}</tspan><tspan fill="#64748b"> · line ${o.op.line} · ${seen[0]} left, ${seen[1]} right, </tspan><tspan fill="#7c3aed" font-weight="600">${pairs.length} pair${pairs.length === 1 ? "" : "s"}</tspan>${releasedText}<tspan fill="#b45309"> · watermark ${esc(fmtWm(wm))}</tspan></text>`);
  parts.push(`<rect x="${x0}" y="${top}" width="${x1 - x0}" height="${h}" rx="6" fill="#faf5ff" stroke="#e9d5ff"/>`);
  parts.push(`<text x="${x0 + 4}" y="${rowY[0]! - 6}" font-size="10" fill="#64748b">left</text><text x="${x0 + 4}" y="${rowY[1]! + 13}" font-size="10" fill="#64748b">right</text>`);
  const links: string[] = [];
  for (const p of pairs) {
    const l = join.dots[p.left], r = join.dots[p.right];
    if (!l || !r) continue;
    links.push(`<line class="pair" x1="${X(l.t).toFixed(1)}" y1="${rowY[0]}" x2="${X(r.t).toFixed(1)}" y2="${rowY[1]}"/>`);
  }
  parts.push(`<g stroke="#7c3aed" stroke-opacity="0.45" stroke-width="1.2">${links.join("")}</g>`);
  const dots: string[] = [];
  join.dots.forEach((d, k) => {
    if (d.step > step) return;
    dots.push(`<circle cx="${X(d.t).toFixed(1)}" cy="${rowY[d.side]}" r="3.2" fill="${d.side === 0 ? "#2563eb" : "#0d9488"}" data-hit="j${i}:${k}"/>`);
  });
  parts.push(`<g fill-opacity="0.85">${dots.join("")}</g>`);
  // Rows emitted without a partner: a hollow square where (and when) the join let them go.
  const released: string[] = [];
  (join.released ?? []).forEach((r, k) => {
    if (r.step > step) return;
    const y = rowY[r.side]!;
    released.push(`<rect class="released ${r.kind}" x="${(X(r.t) - 4).toFixed(1)}" y="${y - 4}" width="8" height="8" data-hit="r${i}:${k}"/>`);
  });
  if (released.length) parts.push(`<g fill="#fff" stroke="${o.op.joinKind === "anti" ? "#dc2626" : "#9333ea"}" stroke-width="1.5" stroke-dasharray="2 1.5">${released.join("")}</g>`);
  if (Number.isFinite(wm)) {
    const x = X(wm).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${top}" y2="${top + h}" stroke="#d97706" stroke-width="1.5" stroke-dasharray="4 3"/>`);
  }
  parts.push(`</g>`);
  return parts.join("");
}

export function windowLabel(w: WindowInfo): string {
  const d = (ms: number) => (ms % 60_000 === 0 && ms >= 60_000 ? `${ms / 60_000}m` : ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`);
  const base = w.kind === "hop" ? `hop(${d(w.size)}, ${d(w.slide)})` : `${w.kind}(${d(w.size)})`;
  return w.carried ? `${base}, carried` : base;
}

/** Plain-text details of a hit target (`s0:12` a record, `o1:3` a window) for the hover card. */
export function describeHit(m: TimelineModel, hit: string, step: number): { title: string; body: string; late?: boolean } | undefined {
  const mm = /^([sojr])(\d+):(\d+)$/.exec(hit);
  if (!mm) return undefined;
  const i = Number(mm[2]), k = Number(mm[3]);
  if (mm[1] === "r") {
    const r = m.ops[i]?.join?.released?.[k];
    if (!r) return undefined;
    const what = r.kind === "absent" ? "no partner came within the bound: the anti join emits it" : `no partner came within the bound: emitted with the ${r.side === 0 ? "right" : "left"} side null`;
    return { title: `join · ${r.side === 0 ? "left" : "right"} row emitted unmatched · step ${r.step}`, body: `at ${new Date(r.t).toISOString()} (the end of its bound)\n${what}\n\n${prettyJson(r.json)}` };
  }
  if (mm[1] === "j") {
    const o = m.ops[i];
    const d = o?.join?.dots[k];
    if (!o?.join || !d) return undefined;
    const partners = o.join.pairs.filter((p) => p.step <= step && (d.side === 0 ? p.left : p.right) === k).length;
    return {
      title: `join · ${d.side === 0 ? "left" : "right"} row · record ${d.step}`,
      body: `event time ${new Date(d.t).toISOString()}\npaired with ${partners} row${partners === 1 ? "" : "s"} of the ${d.side === 0 ? "right" : "left"} side so far\n\n${d.json ? prettyJson(d.json) : ""}`,
    };
  }
  if (mm[1] === "s") {
    const s = m.sources[i];
    const r = s?.records[k];
    if (!s || !r) return undefined;
    const wm = watermarkAt(s.watermarks, r.step - 1);
    const pretty = prettyJson(r.json);
    return {
      title: `${s.name} · record ${r.step}${r.late ? " · LATE" : ""}`,
      body: `event time ${new Date(r.t).toISOString()}\nwatermark when read: ${Number.isFinite(wm) ? new Date(wm).toISOString() : "none yet"}${r.late ? "\ndropped as late: every window it belongs to had fired" : ""}\n${r.step > step ? "(not read yet at this point)\n" : ""}\n${pretty}`,
      ...(r.late ? { late: true } : {}),
    };
  }
  const o = m.ops[i];
  const w = o?.windows[k];
  if (!o || !w) return undefined;
  const count = upperBound(w.adds, step);
  const fired = w.fireStep !== undefined && w.fireStep <= step;
  // Only the rows emitted by this point: a window that has not fired yet shows none.
  const shown = w.rows.filter((_, r) => w.rowSteps[r]! <= step);
  const rows = shown.slice(0, 6).map(prettyOne).join("\n");
  const alone = fired ? (w.unmatched ?? []).filter((s) => s <= step).length : 0;
  const aloneText = alone === 0 ? "" : o.op.joinKind === "anti" ? `\n${alone} row${alone === 1 ? "" : "s"} without a match in the window: the anti join emits ${alone === 1 ? "it" : "them"}` : `\n${alone} row${alone === 1 ? "" : "s"} without a partner in the window: emitted with the other side null`;
  const sides = w.sides ? `\nleft ${upperBound(w.sides[0], step)}, right ${upperBound(w.sides[1], step)}${aloneText}` : "";
  return {
    title: `window [${timeLabel(w.start)}, ${timeLabel(w.end)})${w.key ? ` · ${w.key}` : ""}`,
    body: `${count} record${count === 1 ? "" : "s"} so far of ${w.adds.length}${sides}\n${fired ? `fired after record ${w.fireStep} (watermark ≥ ${timeLabel(w.end)})` : w.fireStep !== undefined ? `fires after record ${w.fireStep}` : "never fired"}${shown.length ? `\n\nrows (${shown.length}):\n${rows}${shown.length > 6 ? "\n…" : ""}` : ""}`,
  };
}

function prettyJson(json: string): string {
  try {
    return JSON.stringify(JSON.parse(json), null, 2);
  } catch {
    return json;
  }
}

function prettyOne(json: string): string {
  try {
    const v = JSON.parse(json);
    if (v && typeof v === "object") {
      for (const k of ["window_start", "window_end", "dateTime", "ts"]) if (typeof v[k] === "number") v[k] = new Date(v[k]).toISOString();
    }
    return JSON.stringify(v);
  } catch {
    return json;
  }
}
