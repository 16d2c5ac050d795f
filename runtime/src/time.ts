// Time values: a `time` is a number of epoch milliseconds (UTC) at run time.
//
// Accepted input (LANGUAGE.md §6 "Input records"):
//   - a number: epoch milliseconds (fractions are floored to whole ms: times have ms precision);
//   - a string `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z`, `±HH:MM` or nothing (= UTC).
//     Extensions, all unambiguous: a space (or lowercase `t`) instead of `T`, lowercase `z`,
//     1 to 9 fraction digits (truncated to ms), and the ECMAScript extended years `±YYYYYY`
//     that `formatTime` prints for years outside 0..9999;
//   - a JavaScript `Date` (for embedders pushing values from an iterable).
// A date or time that does not exist (Feb 30, hour 24, month 13, second 60, offset hour 24)
// gives `undefined`, as does anything outside the range a JavaScript Date can hold (±8.64e15 ms).
//
// Dates are computed with the proleptic Gregorian calendar by hand (no `Date.UTC`, which maps
// years 0..99 to 1900..1999 and is slower).

const MS_PER_DAY = 86_400_000;
/** The largest |epoch ms| a JavaScript Date can represent. */
export const MAX_TIME = 8.64e15;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400; // [0, 399]
  const doy = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1; // [0, 365]
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy; // [0, 146096]
  return era * 146097 + doe - 719468;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(y: number, m: number): number {
  return m === 2 && isLeap(y) ? 29 : DAYS_IN_MONTH[m - 1]!;
}

/** The value of `n` ASCII digits at `s[i..i+n)`, or -1 if any of them is not a digit. */
function digits(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s.charCodeAt(i + k) - 48;
    if (!(c >= 0 && c <= 9)) return -1; // written so that NaN (past the end of s) fails too
    v = v * 10 + c;
  }
  return v;
}

/**
 * Parses an ISO-8601 date-time string (see the file comment) to epoch ms, or `undefined`.
 * Hand-written rather than a regular expression: this runs once per record for ISO inputs.
 */
export function parseIsoTime(s: string): number | undefined {
  const len = s.length;
  let i = 0;
  let year: number;
  const c0 = s.charCodeAt(0);
  if (c0 === 43 /* + */ || c0 === 45 /* - */) {
    // Extended year: exactly six digits after the sign; "-000000" is not allowed (ECMA-262).
    if (len < 7) return undefined;
    year = digits(s, 1, 6);
    if (year < 0) return undefined;
    if (c0 === 45) {
      if (year === 0) return undefined;
      year = -year;
    }
    i = 7;
  } else {
    if (len < 4) return undefined;
    year = digits(s, 0, 4);
    if (year < 0) return undefined;
    i = 4;
  }
  // -MM-DDTHH:MM is the shortest accepted tail: 12 characters.
  if (len < i + 12) return undefined;
  if (s.charCodeAt(i) !== 45 || s.charCodeAt(i + 3) !== 45) return undefined;
  const month = digits(s, i + 1, 2);
  const day = digits(s, i + 4, 2);
  const sep = s.charCodeAt(i + 6);
  if (sep !== 84 /* T */ && sep !== 116 /* t */ && sep !== 32 /* space */) return undefined;
  const hour = digits(s, i + 7, 2);
  if (s.charCodeAt(i + 9) !== 58 /* : */) return undefined;
  const minute = digits(s, i + 10, 2);
  if (month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59) return undefined;
  if (day > daysInMonth(year, month)) return undefined;
  i += 12;

  let second = 0;
  let ms = 0;
  if (i < len && s.charCodeAt(i) === 58 /* : */) {
    second = digits(s, i + 1, 2);
    if (i + 3 > len || second < 0 || second > 59) return undefined;
    i += 3;
    if (i < len && s.charCodeAt(i) === 46 /* . */) {
      i++;
      const start = i;
      while (i < len) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        i++;
      }
      const n = i - start;
      if (n < 1 || n > 9) return undefined;
      // The first three digits are the milliseconds; finer digits are truncated.
      ms = digits(s, start, Math.min(n, 3)) * (n === 1 ? 100 : n === 2 ? 10 : 1);
    }
  }

  let offsetMin = 0;
  if (i < len) {
    const z = s.charCodeAt(i);
    if (z === 90 /* Z */ || z === 122 /* z */) {
      i++;
    } else if (z === 43 || z === 45) {
      if (i + 6 > len || s.charCodeAt(i + 3) !== 58) return undefined;
      const oh = digits(s, i + 1, 2);
      const om = digits(s, i + 4, 2);
      if (oh < 0 || oh > 23 || om < 0 || om > 59) return undefined;
      offsetMin = (z === 45 ? -1 : 1) * (oh * 60 + om);
      i += 6;
    } else {
      return undefined;
    }
  }
  if (i !== len) return undefined;

  const t =
    daysFromCivil(year, month, day) * MS_PER_DAY + hour * 3_600_000 + minute * 60_000 + second * 1000 + ms - offsetMin * 60_000;
  return t >= -MAX_TIME && t <= MAX_TIME ? t : undefined;
}

/**
 * A time value from JSON or JavaScript: epoch ms (a finite number, floored to whole ms), an
 * ISO-8601 string, or a Date. Anything else, or an impossible date, gives `undefined`.
 */
export function parseTime(v: unknown): number | undefined {
  if (typeof v === "number") {
    if (!(v >= -MAX_TIME && v <= MAX_TIME)) return undefined; // also rejects NaN
    return Number.isInteger(v) ? v : Math.floor(v);
  }
  if (typeof v === "string") return parseIsoTime(v);
  if (v instanceof Date) {
    const t = v.getTime();
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

/**
 * A time written as text in a CSV cell or a `lines` input: an integer (optionally negative) is
 * epoch ms, anything else must be ISO-8601.
 */
export function parseTimeText(s: string): number | undefined {
  const len = s.length;
  if (len > 0 && len <= 17) {
    let i = s.charCodeAt(0) === 45 ? 1 : 0;
    if (i < len) {
      let allDigits = true;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) {
          allDigits = false;
          break;
        }
      }
      if (allDigits) {
        const t = Number(s);
        return t >= -MAX_TIME && t <= MAX_TIME ? t : undefined;
      }
    }
  }
  return parseIsoTime(s);
}

const pad2 = (n: number): string => (n < 10 ? "0" + n : "" + n);
const pad3 = (n: number): string => (n < 10 ? "00" + n : n < 100 ? "0" + n : "" + n);

function yearText(y: number): string {
  if (y >= 0 && y <= 9999) return y < 10 ? "000" + y : y < 100 ? "00" + y : y < 1000 ? "0" + y : "" + y;
  // ECMAScript extended year, as Date.prototype.toISOString prints it: sign and six digits.
  const a = Math.abs(y);
  return (y < 0 ? "-" : "+") + (a < 1_000_000 ? ("00000" + a).slice(-6) : "" + a);
}

// Consecutive records usually fall on the same day: cache the "YYYY-MM-DDT" prefix of the last one.
let cachedDay = NaN;
let cachedPrefix = "";

/**
 * Epoch ms → `2026-01-01T00:00:10.000Z` (UTC, always milliseconds). Fractions of a ms are
 * floored. Years outside 0..9999 print as `+YYYYYY`/`-YYYYYY` like `Date#toISOString`; values
 * beyond the Date range are still printed (by the same calendar). Throws on NaN/±Infinity.
 */
export function formatTime(ms: number): string {
  if (!Number.isFinite(ms)) throw new RangeError(`formatTime: not a time: ${ms}`);
  const day = Math.floor(ms / MS_PER_DAY);
  let rem = Math.floor(ms - day * MS_PER_DAY); // [0, 86_400_000)
  if (day !== cachedDay) {
    cachedPrefix = civilPrefix(day);
    cachedDay = day;
  }
  const h = Math.floor(rem / 3_600_000);
  rem -= h * 3_600_000;
  const m = Math.floor(rem / 60_000);
  rem -= m * 60_000;
  const s = Math.floor(rem / 1000);
  return cachedPrefix + pad2(h) + ":" + pad2(m) + ":" + pad2(s) + "." + pad3(rem - s * 1000) + "Z";
}

/** "YYYY-MM-DDT" for a day number (H. Hinnant's `civil_from_days`). */
function civilPrefix(days: number): string {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097; // [0, 146096]
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return yearText(y) + "-" + pad2(m) + "-" + pad2(d) + "T";
}
