// Time from text and back (LANGUAGE.md §10 "Time from text"): `parse_time(s, fmt?)`,
// `format_time(t, fmt)`, `from_epoch_s`, `from_epoch_ms`, `epoch_ms`. Formats use the strftime
// fields %Y %m %d %H %M %S %L (milliseconds) %b (Jan…Dec) %z (+hhmm, +hh:mm or Z) and %%; every
// other character stands for itself. Times are UTC milliseconds since the epoch.
import { FlowRuntimeError } from "./errors.js";

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
/** The largest |t| a JavaScript Date holds: ±100,000,000 days around the epoch. */
const MAX_TIME = 8.64e15;

const daysIn = (year: number, month: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** The parts of a time read from text; missing ones default to 1970-01-01T00:00:00.000Z. */
interface Parts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  /** Minutes east of UTC. */
  offset: number;
}

/** The UTC time of `p`, or null for an impossible date or time (Feb 30, 25:00). */
function timeOf(p: Parts): number | null {
  if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > daysIn(p.year, p.month)) return null;
  if (p.hour > 23 || p.minute > 59 || p.second > 59) return null;
  const d = new Date(0);
  d.setUTCFullYear(p.year, p.month - 1, p.day); // years 0–99 stay themselves (Date.UTC maps them to 19xx)
  d.setUTCHours(p.hour, p.minute, p.second, p.ms);
  const t = d.getTime() - p.offset * 60_000;
  return Number.isFinite(t) && Math.abs(t) <= MAX_TIME ? t : null;
}

/** Reads 1 to `max` digits at `i` (exactly `max` when `exact`); [value, next index] or undefined. */
function digits(s: string, i: number, max: number, exact = false): [number, number] | undefined {
  let j = i;
  while (j < s.length && j - i < max && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
  if (j === i || (exact && j - i !== max)) return undefined;
  return [Number(s.slice(i, j)), j];
}

/** A `%z` offset at `i`: `Z`, `+hhmm`, `+hh:mm` or `+hh`; [minutes east, next index]. */
function offsetAt(s: string, i: number): [number, number] | undefined {
  if (s[i] === "Z" || s[i] === "z") return [0, i + 1];
  const sign = s[i] === "+" ? 1 : s[i] === "-" ? -1 : 0;
  if (sign === 0) return undefined;
  const h = digits(s, i + 1, 2, true);
  if (!h) return undefined;
  let j = h[1];
  if (s[j] === ":") j++;
  const m = digits(s, j, 2, true);
  if (m === undefined && s[j - 1] === ":") return undefined;
  if (h[0] > 23 || (m && m[0] > 59)) return undefined;
  return [sign * (h[0] * 60 + (m ? m[0] : 0)), m ? m[1] : h[1]];
}

/** Reads `s` by strftime format `fmt`, the whole text; null when it does not match. */
function parseFormatted(s: string, fmt: string): number | null {
  const p: Parts = { year: 1970, month: 1, day: 1, hour: 0, minute: 0, second: 0, ms: 0, offset: 0 };
  let i = 0;
  for (let f = 0; f < fmt.length; f++) {
    const c = fmt[f]!;
    if (c !== "%" || f + 1 >= fmt.length) {
      if (s[i] !== c) return null;
      i++;
      continue;
    }
    const spec = fmt[++f]!;
    let read: [number, number] | undefined;
    switch (spec) {
      case "Y":
        read = digits(s, i, 4, true);
        if (read) p.year = read[0];
        break;
      case "m":
      case "d":
      case "H":
      case "M":
      case "S":
        read = digits(s, i, 2);
        if (read) p[({ m: "month", d: "day", H: "hour", M: "minute", S: "second" } as const)[spec]] = read[0];
        break;
      case "L":
        read = digits(s, i, 3, true);
        if (read) p.ms = read[0];
        break;
      case "b": {
        const name = s.slice(i, i + 3).toLowerCase();
        const m = MONTHS.findIndex((x) => x.toLowerCase() === name);
        if (m >= 0) [p.month, read] = [m + 1, [m + 1, i + 3]];
        break;
      }
      case "z":
        read = offsetAt(s, i);
        if (read) p.offset = read[0];
        break;
      case "%":
        read = s[i] === "%" ? [0, i + 1] : undefined;
        break;
      default:
        if (s[i] === "%" && s[i + 1] === spec) read = [0, i + 2];
    }
    if (!read) return null;
    i = read[1];
  }
  return i === s.length ? timeOf(p) : null;
}

/**
 * ISO-8601 exactly as input records accept it (runtime/src/time.ts `parseIsoTime`, which the
 * stdlib may not import; a differential test keeps the two in step): `YYYY-MM-DD` (or `±YYYYYY`),
 * `T`, `t` or a space, `HH:MM[:SS[.f…]]` (1–9 fraction digits, finer than ms truncated), then
 * `Z`, `z`, `±HH:MM` or nothing (UTC).
 */
function parseIso(s: string): number | null {
  const m = /^([+-]\d{6}|\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|z|[+-]\d{2}:\d{2})?$/.exec(s);
  if (!m || m[1] === "-000000") return null;
  const zone = m[8] === undefined ? undefined : offsetAt(m[8], 0);
  if (m[8] !== undefined && zone === undefined) return null;
  return timeOf({
    year: Number(m[1]), month: Number(m[2]), day: Number(m[3]), hour: Number(m[4]), minute: Number(m[5]),
    second: m[6] === undefined ? 0 : Number(m[6]), ms: m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0")), offset: zone ? zone[0] : 0,
  });
}

/** `parse_time(s, fmt?)`: the time `s` spells (ISO-8601 without a format); null when it does not match. */
export function flow_parse_time(s: string, fmt?: string): number | null {
  return fmt === undefined ? parseIso(s) : parseFormatted(s, fmt);
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** `format_time(t, fmt)`: `t` in UTC by a strftime format (`%z` prints `+0000`). */
export function flow_format_time(t: number, fmt: string): string {
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) throw new FlowRuntimeError("format_time", `${t} is not a time`);
  let out = "";
  for (let f = 0; f < fmt.length; f++) {
    const c = fmt[f]!;
    if (c !== "%" || f + 1 >= fmt.length) {
      out += c;
      continue;
    }
    const spec = fmt[++f]!;
    switch (spec) {
      case "Y": out += pad(d.getUTCFullYear(), 4); break;
      case "m": out += pad(d.getUTCMonth() + 1, 2); break;
      case "d": out += pad(d.getUTCDate(), 2); break;
      case "H": out += pad(d.getUTCHours(), 2); break;
      case "M": out += pad(d.getUTCMinutes(), 2); break;
      case "S": out += pad(d.getUTCSeconds(), 2); break;
      case "L": out += pad(d.getUTCMilliseconds(), 3); break;
      case "b": out += MONTHS[d.getUTCMonth()]; break;
      case "z": out += "+0000"; break;
      case "%": out += "%"; break;
      default: out += "%" + spec;
    }
  }
  return out;
}

/** `from_epoch_s(x)`: the time x seconds after the epoch (to the nearest millisecond). */
export function flow_from_epoch_s(x: number): number {
  const ms = Math.round(x * 1000);
  if (!(Math.abs(ms) <= MAX_TIME)) throw new FlowRuntimeError("from_epoch_s", `${x} is outside the range of times`);
  return ms + 0;
}

/** `from_epoch_ms(x)`: the time x milliseconds after the epoch (to the nearest millisecond). */
export function flow_from_epoch_ms(x: number): number {
  const ms = Math.round(x);
  if (!(Math.abs(ms) <= MAX_TIME)) throw new FlowRuntimeError("from_epoch_ms", `${x} is outside the range of times`);
  return ms + 0;
}
