// Scalar built-ins of Flow (LANGUAGE.md §5), called directly by generated code.
//
// Every function is a plain, monomorphic, top-level export (no closures, no `this`), named
// `flow_<name>` so it never clashes with a JavaScript keyword or global. The table of built-ins,
// stdlib/src/catalog.ts, maps each Flow name and overload to its export (or to an inline
// JavaScript template the code generator uses instead), with its signature; builtins.test.ts
// checks that the two agree.
//
// Run-time values (runtime/src/contract.ts): int, float, duration → number; time → epoch ms
// number; bool → boolean; string → string; optional → null or the value; array → JS array.
// Built-ins never receive null: optional arguments must be unwrapped by the program first, and
// a function whose catalog entry has a null policy gets its nulls handled by generated code.
//
// Errors: a built-in that cannot produce a value of its result type throws FlowRuntimeError
// (division by zero, an invalid regular expression, a time outside the representable range).

import { FlowRuntimeError } from "./errors.js";

export { FlowRuntimeError };

// ---------------------------------------------------------------------------------------------
// Numbers

/** `abs(x)`: int → int, float → float. */
export function flow_abs(x: number): number {
  return Math.abs(x);
}

/** `floor(x)`: the largest integer ≤ x (typed int). */
export function flow_floor(x: number): number {
  return Math.floor(x);
}

/** `ceil(x)`: the smallest integer ≥ x (typed int). */
export function flow_ceil(x: number): number {
  return Math.ceil(x);
}

/** `pow(a, b)` = a^b (float). Throws FlowRuntimeError when the result is NaN or ±∞ (pow(10, 400)). */
export function flow_pow(a: number, b: number): number {
  const r = Math.pow(a, b);
  if (r - r !== 0) throw new FlowRuntimeError("pow", `pow(${a}, ${b}) is not a finite number`);
  return r;
}

/** `sqrt(x)`. Throws FlowRuntimeError for a negative x (whose square root is no real number). */
export function flow_sqrt(x: number): number {
  const r = Math.sqrt(x);
  if (r - r !== 0) throw new FlowRuntimeError("sqrt", `sqrt(${x}) is not a finite number`);
  return r;
}

/**
 * `a / b` (always a float). Throws FlowRuntimeError when the quotient is not finite: division by
 * zero, or an overflow beyond ±1.8e308 — a NaN or ±∞ is no float a record can carry.
 */
export function flow_fdiv(a: number, b: number): number {
  const q = a / b;
  if (q - q !== 0) throw new FlowRuntimeError("/", b === 0 ? `division by zero (${a} / 0)` : `${a} / ${b} is not a finite number`);
  return q;
}

/** `round(x)`: the nearest integer, halves away from zero (round(2.5) = 3, round(-2.5) = -3). */
export function flow_round(x: number): number {
  // Math.round rounds halves up (toward +∞); mirror negatives so halves go away from zero.
  // `+ 0` turns -0 into 0.
  return (x < 0 ? -Math.round(-x) : Math.round(x)) + 0;
}

/** 10^d for the fast path of flow_round2 (exact doubles for d ≤ 22). */
const POW10: readonly number[] = [
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/**
 * `round(x, d)`: x rounded to d decimal places, halves away from zero.
 *
 * Robust to binary representation: the value rounded is the decimal JavaScript prints for x
 * (its shortest round-trip form), so round(1.005, 2) = 1.01 and round(2.675, 2) = 2.68 although
 * the doubles are slightly below those halves. The result is the double nearest to the rounded
 * decimal. d may be negative (round(1250, -2) = 1300); a fractional d is truncated. NaN and ±∞
 * are returned unchanged.
 */
export function flow_round2(x: number, d: number): number {
  if (d !== (d | 0)) d = Math.trunc(d);
  const neg = x < 0;
  const ax = neg ? -x : x;
  if (d >= 0 && d < 16) {
    // Fast path: when x·10^d is far from a half, the binary product rounds the same way as the
    // decimal does (its error is < 1e-6 below 1e9, the margin is 1e-5).
    const p = POW10[d]!;
    const m = ax * p;
    if (m < 1e9) {
      const fl = Math.floor(m);
      const fr = m - fl;
      const off = fr - 0.5;
      if (off > 1e-5 || off < -1e-5) {
        const r = (off > 0 ? fl + 1 : fl) / p;
        return (neg ? -r : r) + 0;
      }
    }
  }
  if (ax !== ax || ax === Infinity) return x;
  return (neg ? -roundDecimal(ax, d) : roundDecimal(ax, d)) + 0;
}

/** Rounds the shortest decimal form of ax ≥ 0 (finite) to d places, halves up; exact. */
function roundDecimal(ax: number, d: number): number {
  const s = String(ax); // "123.456", "1e-7", "1.5e+300"
  let mant = s;
  let exp = 0;
  const e = s.indexOf("e");
  if (e >= 0) {
    mant = s.slice(0, e);
    exp = Number(s.slice(e + 1));
  }
  const dot = mant.indexOf(".");
  let digits: string;
  let intLen: number;
  if (dot >= 0) {
    digits = mant.slice(0, dot) + mant.slice(dot + 1);
    intLen = dot;
  } else {
    digits = mant;
    intLen = mant.length;
  }
  // The value is 0.digits × 10^(intLen + exp); keep the first `keep` digits.
  const keep = intLen + exp + d;
  if (keep >= digits.length) return ax; // already has at most d decimals
  if (keep < 0) return 0;
  let kept = digits.slice(0, keep);
  if (digits.charCodeAt(keep) >= 53 /* '5' */) kept = incrementDigits(kept);
  if (kept === "") return 0;
  return Number(kept + "e" + -d);
}

/** "129" → "130", "999" → "1000", "" → "1". */
function incrementDigits(s: string): string {
  let i = s.length - 1;
  while (i >= 0 && s.charCodeAt(i) === 57 /* '9' */) i--;
  if (i < 0) return "1" + "0".repeat(s.length);
  return s.slice(0, i) + String.fromCharCode(s.charCodeAt(i) + 1) + "0".repeat(s.length - i - 1);
}

/**
 * `div(a, b)`: integer division truncating toward zero (div(-7, 2) = -3), the companion of `%`
 * (a = div(a, b)·b + a % b). Exact for all safe integers. Throws FlowRuntimeError when b = 0.
 */
export function flow_div(a: number, b: number): number {
  if (b === 0) throw new FlowRuntimeError("div", `division by zero (div(${a}, 0))`);
  // a % b is exact in IEEE arithmetic, so a - a % b is an exact multiple of b.
  return (a - (a % b)) / b + 0;
}

/**
 * `a % b`: remainder with the sign of the dividend, as JavaScript's `%` (-7 % 2 = -1,
 * 7 % -2 = 1). Throws FlowRuntimeError when b = 0 (JavaScript would give NaN, which is no int).
 */
export function flow_mod(a: number, b: number): number {
  if (b === 0) throw new FlowRuntimeError("%", `division by zero (${a} % 0)`);
  return (a % b) + 0;
}

/** `min(a, b)` with two arguments (scalar): the smaller; `a` on ties. Numbers, strings, times. */
export function flow_min2<T extends number | string>(a: T, b: T): T {
  return b < a ? b : a;
}

/** `max(a, b)` with two arguments (scalar): the larger; `a` on ties. */
export function flow_max2<T extends number | string>(a: T, b: T): T {
  return b > a ? b : a;
}

// ---------------------------------------------------------------------------------------------
// Conversions

/**
 * `int(x)`: truncates toward zero (int(-2.7) = -2). Throws FlowRuntimeError for NaN or ±∞,
 * which have no int value.
 */
export function flow_int(x: number): number {
  const r = Math.trunc(x);
  if (r - r !== 0) throw new FlowRuntimeError("int", `${x} has no int value`);
  return r + 0;
}

/** `float(x)`: ints and floats share the JavaScript number, so this is the identity. */
export function flow_float(x: number): number {
  return x;
}

/**
 * `string(x)` for int, float, bool, duration (milliseconds) and string: JavaScript's own text
 * (`String`), the same text JSON prints for numbers: 3 → "3", 2.5 → "2.5", 1e21 → "1e+21",
 * true → "true". Times use flow_time_string.
 */
export function flow_string(x: number | boolean | string): string {
  return String(x);
}

// Cache of the last second formatted by flow_time_string ("2026-01-01T00:00:10.").
let isoSecond = NaN;
let isoSecondPrefix = "";
// Cache of the last day ("2026-01-01").
let cachedDay = NaN;
let cachedDayText = "";

const PAD2: string[] = [];
for (let i = 0; i < 100; i++) PAD2.push(i < 10 ? "0" + i : String(i));
/** "000Z" … "999Z": milliseconds with the zone designator. */
const MS_Z: string[] = [];
for (let i = 0; i < 1000; i++) MS_Z.push((i < 10 ? "00" : i < 100 ? "0" : "") + i + "Z");

const DAY_MS = 86_400_000;
const MAX_TIME = 8.64e15; // the ECMAScript time range

/** "YYYY-MM-DD" of a day number (days since 1970-01-01), for years 0000–9999. */
function dayText(day: number): string {
  if (day === cachedDay) return cachedDayText;
  // Civil-from-days (H. Hinnant's algorithm), proleptic Gregorian calendar.
  const z = day + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const dd = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const mm = mp < 10 ? mp + 3 : mp - 9;
  const yy = yoe + era * 400 + (mm <= 2 ? 1 : 0);
  let text: string;
  if (yy >= 0 && yy <= 9999) {
    text = (yy < 1000 ? (yy < 10 ? "000" : yy < 100 ? "00" : "0") : "") + yy + "-" + PAD2[mm] + "-" + PAD2[dd];
  } else {
    // Expanded years (±YYYYYY), as Date.prototype.toISOString writes them.
    const iso = new Date(day * DAY_MS).toISOString();
    text = iso.slice(0, iso.indexOf("T"));
  }
  cachedDay = day;
  cachedDayText = text;
  return text;
}

function checkTime(builtin: string, t: number): void {
  if (!(t >= -MAX_TIME && t <= MAX_TIME)) {
    throw new FlowRuntimeError(builtin, `time ${t} is outside the representable range (±8.64e15 ms)`);
  }
}

/**
 * `string(t)` for a time: ISO-8601 UTC with milliseconds, `2026-01-01T00:00:10.000Z` — exactly
 * what `new Date(t).toISOString()` gives (including ±YYYYYY years outside 0000–9999), faster.
 * Throws FlowRuntimeError outside the ECMAScript time range (±8.64e15 ms).
 */
export function flow_time_string(t: number): string {
  const sec = Math.floor(t / 1000);
  if (sec === isoSecond) {
    const ms = MS_Z[t - sec * 1000]; // undefined for a fractional t
    if (ms !== undefined) return isoSecondPrefix + ms;
  }
  if (t !== Math.trunc(t)) t = Math.trunc(t); // a fractional time: Date truncates
  checkTime("string", t);
  const s = Math.floor(t / 1000);
  const day = Math.floor(s / 86400);
  const sod = s - day * 86400;
  const h = Math.floor(sod / 3600);
  const mi = Math.floor((sod - h * 3600) / 60);
  const se = sod - h * 3600 - mi * 60;
  isoSecond = s;
  isoSecondPrefix = dayText(day) + "T" + PAD2[h] + ":" + PAD2[mi] + ":" + PAD2[se] + ".";
  return isoSecondPrefix + MS_Z[t - s * 1000]!;
}

// ---------------------------------------------------------------------------------------------
// Strings (JavaScript strings: lengths and indices in UTF-16 code units)

/** `len(s)`: UTF-16 code units ("😀" has length 2). */
export function flow_len(s: string): number {
  return s.length;
}

/** `lower(s)`: locale-independent lower case. */
export function flow_lower(s: string): string {
  return s.toLowerCase();
}

/** `upper(s)`: locale-independent upper case. */
export function flow_upper(s: string): string {
  return s.toUpperCase();
}

/** `trim(s)`: removes leading and trailing white space (JavaScript's definition). */
export function flow_trim(s: string): string {
  return s.trim();
}

/** `contains(s, sub)`; every string contains "". */
export function flow_contains(s: string, sub: string): boolean {
  return s.includes(sub);
}

/** `starts_with(s, prefix)`. */
export function flow_starts_with(s: string, prefix: string): boolean {
  return s.startsWith(prefix);
}

/** `ends_with(s, suffix)`. */
export function flow_ends_with(s: string, suffix: string): boolean {
  return s.endsWith(suffix);
}

/**
 * `substr(s, start, len?)`, 0-based: the code units at positions [start, start + len) that
 * exist in s (without len: to the end). Out-of-range parts are clamped away as SQL's SUBSTRING
 * does, never an error: substr("hello", 3, 10) = "lo", substr("hello", 9) = "",
 * substr("hello", -2, 4) = "he" (positions -2 and -1 do not exist), and a len ≤ 0 gives ""
 * (where SQL would reject a negative length).
 */
export function flow_substr(s: string, start: number, len?: number): string {
  const from = start > 0 ? start : 0;
  if (len === undefined) return from === 0 ? s : s.substring(from);
  const to = start + len;
  if (to <= from) return "";
  return s.substring(from, to); // substring clamps `to` to s.length
}

/**
 * `replace(s, a, b)`: every occurrence of a replaced by b, both literal (no regex, `$` in b is
 * not special). Occurrences are found left to right without overlap. An empty `a` leaves s
 * unchanged (as SQL's REPLACE).
 */
export function flow_replace(s: string, a: string, b: string): string {
  if (a.length === 0) return s;
  return s.split(a).join(b);
}

/**
 * `split(s, sep)`: JavaScript's split: split("a,b,,c", ",") = ["a", "b", "", "c"],
 * split("", ",") = [""], and an empty sep splits into single UTF-16 code units.
 */
export function flow_split(s: string, sep: string): string[] {
  return s.split(sep);
}

interface CachedRegex {
  re: RegExp;
  /** Number of capture groups, computed on first use by regex_extract (-1 = not yet). */
  groups: number;
}

const regexCache = new Map<string, CachedRegex>();
const REGEX_CACHE_LIMIT = 1000;

/**
 * The compiled RegExp for a pattern (JavaScript syntax, no flags), cached by source string.
 * Throws FlowRuntimeError for an invalid pattern.
 */
function cachedRegex(builtin: string, source: string): CachedRegex {
  let c = regexCache.get(source);
  if (c === undefined) {
    let re: RegExp;
    try {
      re = new RegExp(source);
    } catch (err) {
      throw new FlowRuntimeError(builtin, `invalid regular expression /${source}/: ${(err as Error).message}`);
    }
    // Programs with computed patterns could grow the cache without bound: start over.
    if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
    c = { re, groups: -1 };
    regexCache.set(source, c);
  }
  return c;
}

/**
 * Checks a pattern for the compiler: null when `source` is a valid JavaScript regular
 * expression, else the engine's message (for a constant pattern, report it at compile time).
 */
export function regexError(source: string): string | null {
  try {
    new RegExp(source);
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** The number of capture groups of a valid pattern (for checking `regex_extract`'s group). */
export function regexGroupCount(source: string): number {
  // The alternative "|" always matches "", so exec returns an array with every group.
  return new RegExp(source + "|").exec("")!.length - 1;
}

/** `matches(s, re)`: whether the JavaScript regex `re` (no flags) matches anywhere in s. */
export function flow_matches(s: string, re: string): boolean {
  return cachedRegex("matches", re).re.test(s);
}

/**
 * `regex_extract(s, re, group?)` → string?: the text of capture group `group` (default 0, the
 * whole match) of the first match of `re` in s; null when there is no match or the group did not
 * take part in it. Throws FlowRuntimeError when the pattern has no such group.
 */
export function flow_regex_extract(s: string, re: string, group?: number): string | null {
  const c = cachedRegex("regex_extract", re);
  const g = group === undefined ? 0 : group;
  if (g !== 0) {
    if (c.groups < 0) c.groups = regexGroupCount(re);
    if (!(g >= 0 && g <= c.groups && g === Math.trunc(g))) {
      throw new FlowRuntimeError(
        "regex_extract",
        `group ${g} does not exist: /${re}/ has ${c.groups} capture group${c.groups === 1 ? "" : "s"}`,
      );
    }
  }
  const m = c.re.exec(s);
  if (m === null) return null;
  const v = m[g];
  return v === undefined ? null : v;
}

// ---------------------------------------------------------------------------------------------
// Times (UTC; a time is epoch milliseconds)

/** `hour(t)`: 0–23, UTC. */
export function flow_hour(t: number): number {
  const r = t % DAY_MS;
  return Math.floor((r < 0 ? r + DAY_MS : r) / 3_600_000);
}

/** `minute(t)`: 0–59, UTC. */
export function flow_minute(t: number): number {
  const r = t % 3_600_000;
  return Math.floor((r < 0 ? r + 3_600_000 : r) / 60_000);
}

/** `day_of_week(t)`: ISO numbering, 1 = Monday … 7 = Sunday, UTC. */
export function flow_day_of_week(t: number): number {
  // 1970-01-01 (day 0) was a Thursday (4).
  const r = (Math.floor(t / DAY_MS) + 3) % 7;
  return (r < 0 ? r + 7 : r) + 1;
}

/** `date(t)`: "YYYY-MM-DD", UTC (±YYYYYY-MM-DD outside years 0000–9999). */
export function flow_date(t: number): string {
  checkTime("date", t);
  return dayText(Math.floor(t / DAY_MS));
}

/**
 * `trunc(t, d)`: t rounded down to a multiple of d since the epoch (floor, also before 1970:
 * trunc(-1ms, 1s) = -1000). Exact for integer milliseconds. Throws FlowRuntimeError when d ≤ 0.
 */
export function flow_trunc(t: number, d: number): number {
  if (!(d > 0)) throw new FlowRuntimeError("trunc", `the duration must be positive, got ${d}ms`);
  const r = t % d;
  return t - (r < 0 ? r + d : r);
}

// ---------------------------------------------------------------------------------------------
// Parsing strings (`int(s)` and `float(s)` on a string give an optional: null when s is no number)

/** `int(s)`: a decimal integer literal (surrounding spaces allowed) → its value; else null. */
export function flow_parse_int(s: string): number | null {
  const t = s.trim();
  if (!/^[+-]?\d+$/.test(t)) return null;
  const n = Number(t);
  return Number.isSafeInteger(n) ? n : null;
}

/** `float(s)`: a decimal number (`1.5`, `-2e3`, surrounding spaces allowed) → its value; else null. */
export function flow_parse_float(s: string): number | null {
  const t = s.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

// Time from text and epochs (LANGUAGE.md §10) live in their own file.
export { flow_format_time, flow_from_epoch_ms, flow_from_epoch_s, flow_parse_time } from "./time-text.js";
