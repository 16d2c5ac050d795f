import { describe, expect, it } from "vitest";
import fc from "fast-check";
import * as B from "./builtins.js";
import { readFileSync } from "node:fs";
import { AGGREGATE_FUNCTIONS, BUILTIN_FUNCTIONS, OPERATOR_HELPERS } from "./catalog.js";
import {
  FlowRuntimeError,
  flow_abs,
  flow_ceil,
  flow_contains,
  flow_date,
  flow_day_of_week,
  flow_div,
  flow_ends_with,
  flow_floor,
  flow_hour,
  flow_int,
  flow_len,
  flow_lower,
  flow_matches,
  flow_max2,
  flow_min2,
  flow_minute,
  flow_mod,
  flow_pow,
  flow_fdiv,
  flow_regex_extract,
  flow_replace,
  flow_round,
  flow_round2,
  flow_split,
  flow_sqrt,
  flow_starts_with,
  flow_string,
  flow_substr,
  flow_time_string,
  flow_trim,
  flow_trunc,
  flow_upper,
  regexError,
  regexGroupCount,
} from "./builtins.js";

/** Independent reference for round(x, d): exact decimal arithmetic on String(x) with BigInt. */
function refRound2(x: number, d: number): number {
  if (!Number.isFinite(x)) return x;
  const neg = x < 0;
  const s = String(Math.abs(x));
  const [mant, expPart] = s.split("e") as [string, string | undefined];
  const [ip, fp = ""] = mant.split(".") as [string, string | undefined];
  // value = digits × 10^scale
  const digits = BigInt(ip + fp);
  const scale = (expPart === undefined ? 0 : Number(expPart)) - fp.length;
  // want round(value × 10^d) as an integer N, then N × 10^-d
  const shift = scale + d;
  let n: bigint;
  if (shift >= 0) {
    n = digits * 10n ** BigInt(shift);
  } else {
    const div = 10n ** BigInt(-shift);
    const q = digits / div;
    const r = digits % div;
    n = 2n * r >= div ? q + 1n : q;
  }
  const r = Number(`${n}e${-d}`);
  return neg && r !== 0 ? -r : r;
}

describe("numbers", () => {
  it("round(x) rounds halves away from zero, also for negatives", () => {
    expect(flow_round(2.5)).toBe(3);
    expect(flow_round(-2.5)).toBe(-3);
    expect(flow_round(0.5)).toBe(1);
    expect(flow_round(-0.5)).toBe(-1);
    expect(flow_round(1.5)).toBe(2);
    expect(flow_round(-1.5)).toBe(-2);
    expect(flow_round(2.4999999)).toBe(2);
    expect(flow_round(-2.4999999)).toBe(-2);
    expect(flow_round(0.49999999999999994)).toBe(0);
    expect(flow_round(7)).toBe(7);
    expect(flow_round(-7)).toBe(-7);
    expect(Object.is(flow_round(-0.4), 0)).toBe(true); // no -0
  });

  it("round(x, d) rounds the decimal value, halves away from zero", () => {
    expect(flow_round2(1.005, 2)).toBe(1.01);
    expect(flow_round2(2.675, 2)).toBe(2.68);
    expect(flow_round2(-1.005, 2)).toBe(-1.01);
    expect(flow_round2(-2.675, 2)).toBe(-2.68);
    expect(flow_round2(1.2345, 3)).toBe(1.235);
    expect(flow_round2(0.125, 2)).toBe(0.13);
    expect(flow_round2(-0.125, 2)).toBe(-0.13);
    expect(flow_round2(8.345, 2)).toBe(8.35);
    expect(flow_round2(1.0049999, 2)).toBe(1);
    expect(flow_round2(123.456, 0)).toBe(123);
    expect(flow_round2(0.5, 0)).toBe(1);
    expect(flow_round2(-0.5, 0)).toBe(-1);
    expect(flow_round2(3.14159, 4)).toBe(3.1416);
    expect(flow_round2(9.995, 2)).toBe(10);
    expect(flow_round2(99.995, 2)).toBe(100);
    expect(flow_round2(0.1 + 0.2, 2)).toBe(0.3);
    expect(flow_round2(1.1, 20)).toBe(1.1);
    expect(flow_round2(42, 2)).toBe(42);
  });

  it("round(x, d) with negative d, tiny, huge and special values", () => {
    expect(flow_round2(1234.5678, -2)).toBe(1200);
    expect(flow_round2(1250, -2)).toBe(1300);
    expect(flow_round2(-1250, -2)).toBe(-1300);
    expect(flow_round2(5, -1)).toBe(10);
    expect(flow_round2(4, -1)).toBe(0);
    expect(flow_round2(1e-7, 2)).toBe(0);
    expect(flow_round2(5e-7, 6)).toBe(0.000001);
    expect(flow_round2(1.23e25, 2)).toBe(1.23e25);
    expect(flow_round2(1.5e300, -300)).toBe(2e300);
    expect(flow_round2(1.5e300, -299)).toBe(1.5e300);
    expect(flow_round2(123456789012.345, 2)).toBe(123456789012.35);
    expect(flow_round2(NaN, 2)).toBeNaN();
    expect(flow_round2(Infinity, 2)).toBe(Infinity);
    expect(flow_round2(-Infinity, 2)).toBe(-Infinity);
    expect(Object.is(flow_round2(-0.001, 2), 0)).toBe(true);
    expect(Object.is(flow_round2(-0.4, 0), 0)).toBe(true);
  });

  it("round(x, d) agrees with an exact decimal reference (fast and slow paths)", () => {
    const cases: [number, number][] = [];
    // Values written with d+1 decimals ending in 5: every one is a decimal half.
    for (let i = 0; i < 2000; i++) cases.push([Number((i * 0.001 + 0.0005).toFixed(4)), 3]);
    for (let i = 0; i < 2000; i++) cases.push([Number((i / 100 + 0.005).toFixed(3)), 2]);
    for (const [x, d] of cases) {
      expect(flow_round2(x, d)).toBe(refRound2(x, d));
      expect(flow_round2(-x, d)).toBe(refRound2(-x, d));
    }
    fc.assert(
      fc.property(
        fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ min: -1e6, max: 1e6, noNaN: true })),
        fc.integer({ min: -5, max: 17 }),
        (x, d) => Object.is(flow_round2(x, d) + 0, refRound2(x, d) + 0),
      ),
      { numRuns: 20000 },
    );
  });

  it("div truncates toward zero and matches % (a = div(a, b)·b + a % b)", () => {
    expect(flow_div(7, 2)).toBe(3);
    expect(flow_div(-7, 2)).toBe(-3);
    expect(flow_div(7, -2)).toBe(-3);
    expect(flow_div(-7, -2)).toBe(3);
    expect(flow_div(6, 3)).toBe(2);
    expect(Object.is(flow_div(-1, 5), 0)).toBe(true);
    expect(Object.is(flow_div(0, -5), 0)).toBe(true);
    expect(flow_div(Number.MAX_SAFE_INTEGER, 2)).toBe(4503599627370495);
    expect(flow_div(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1)).toBe(1);
    expect(flow_div(Number.MAX_SAFE_INTEGER - 1, Number.MAX_SAFE_INTEGER)).toBe(0);
    expect(flow_div(7.5, 2)).toBe(3);
    expect(flow_mod(-7, 2)).toBe(-1);
    expect(flow_mod(7, -2)).toBe(1);
    expect(flow_mod(-7, -2)).toBe(-1);
    expect(flow_mod(7, 2)).toBe(1);
    expect(Object.is(flow_mod(-4, 2), 0)).toBe(true);
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.maxSafeInteger().filter((b) => b !== 0), (a, b) => {
        const q = flow_div(a, b);
        return Number.isSafeInteger(q) && BigInt(q) === BigInt(a) / BigInt(b) && flow_mod(a, b) === a % b;
      }),
      { numRuns: 5000 },
    );
  });

  it("division by zero throws FlowRuntimeError", () => {
    expect(() => flow_div(1, 0)).toThrow(FlowRuntimeError);
    expect(() => flow_div(1, 0)).toThrow(/div: division by zero/);
    expect(() => flow_mod(1, 0)).toThrow(FlowRuntimeError);
    try {
      flow_div(5, 0);
    } catch (e) {
      expect(e).toBeInstanceOf(Error);
      expect((e as FlowRuntimeError).builtin).toBe("div");
      expect((e as FlowRuntimeError).name).toBe("FlowRuntimeError");
    }
  });

  it("abs, floor, ceil, sqrt, pow, min, max", () => {
    expect(flow_abs(-3)).toBe(3);
    expect(flow_abs(2.5)).toBe(2.5);
    expect(flow_floor(-2.5)).toBe(-3);
    expect(flow_floor(2.7)).toBe(2);
    expect(flow_ceil(2.1)).toBe(3);
    expect(flow_ceil(-2.1)).toBe(-2);
    expect(flow_sqrt(9)).toBe(3);
    expect(() => flow_sqrt(-1)).toThrow(FlowRuntimeError);
    expect(() => flow_pow(10, 400)).toThrow(/not a finite number/);
    expect(() => flow_fdiv(1, 0)).toThrow(/division by zero/);
    expect(flow_fdiv(1, 4)).toBe(0.25);
    expect(flow_pow(2, 10)).toBe(1024);
    expect(flow_pow(4, 0.5)).toBe(2);
    expect(flow_min2(3, 2)).toBe(2);
    expect(flow_max2(3, 2)).toBe(3);
    expect(flow_min2("b", "a")).toBe("a");
    expect(flow_max2("b", "a")).toBe("b");
  });

  it("int truncates; float is the identity; string formats numbers and bools", () => {
    expect(flow_int(2.7)).toBe(2);
    expect(flow_int(-2.7)).toBe(-2);
    expect(Object.is(flow_int(-0.5), 0)).toBe(true);
    expect(flow_int(5)).toBe(5);
    expect(() => flow_int(NaN)).toThrow(FlowRuntimeError);
    expect(() => flow_int(Infinity)).toThrow(FlowRuntimeError);
    expect(B.flow_float(3)).toBe(3);
    expect(flow_string(3)).toBe("3");
    expect(flow_string(2.5)).toBe("2.5");
    expect(flow_string(-0)).toBe("0");
    expect(flow_string(1e21)).toBe("1e+21");
    expect(flow_string(true)).toBe("true");
    expect(flow_string(false)).toBe("false");
    expect(flow_string("x")).toBe("x");
  });
});

describe("time formatting", () => {
  it("string(t) is ISO-8601 UTC with milliseconds", () => {
    expect(flow_time_string(Date.UTC(2026, 0, 1, 0, 0, 10))).toBe("2026-01-01T00:00:10.000Z");
    expect(flow_time_string(Date.UTC(2026, 0, 1, 0, 0, 10, 7))).toBe("2026-01-01T00:00:10.007Z");
    expect(flow_time_string(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(flow_time_string(-1)).toBe("1969-12-31T23:59:59.999Z");
    expect(flow_time_string(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe("2024-02-29T23:59:59.999Z");
  });

  it("string(t) equals Date.prototype.toISOString everywhere, including odd years", () => {
    const samples = [
      -62167219200000, // 0000-01-01
      -62167219200001, // -000001-12-31
      253402300799999, // 9999-12-31T23:59:59.999
      253402300800000, // +010000-01-01
      8.64e15,
      -8.64e15,
    ];
    for (const t of samples) expect(flow_time_string(t)).toBe(new Date(t).toISOString());
    fc.assert(
      fc.property(fc.integer({ min: -8.64e15, max: 8.64e15 }), (t) => flow_time_string(t) === new Date(t).toISOString()),
      { numRuns: 20000 },
    );
    // Runs of times within one second (the cache) and crossing seconds, days, years.
    for (let t = Date.UTC(1999, 11, 31, 23, 59, 58); t < Date.UTC(2000, 0, 1, 0, 0, 2); t += 7) {
      expect(flow_time_string(t)).toBe(new Date(t).toISOString());
    }
    for (let t = -3000; t < 3000; t += 3) expect(flow_time_string(t)).toBe(new Date(t).toISOString());
    // A fractional time is truncated, as Date does, also right after a cached second.
    flow_time_string(1000);
    expect(flow_time_string(1000.5)).toBe(new Date(1000.5).toISOString());
  });

  it("string(t) outside the ECMAScript time range throws", () => {
    expect(() => flow_time_string(8.64e15 + 1)).toThrow(FlowRuntimeError);
    expect(() => flow_time_string(NaN)).toThrow(FlowRuntimeError);
  });
});

describe("strings", () => {
  it("len counts UTF-16 units; lower, upper, trim", () => {
    expect(flow_len("abc")).toBe(3);
    expect(flow_len("😀")).toBe(2);
    expect(flow_len("")).toBe(0);
    expect(flow_lower("AbC")).toBe("abc");
    expect(flow_upper("straße")).toBe("STRASSE");
    expect(flow_trim("  a b \t\n")).toBe("a b");
  });

  it("contains, starts_with, ends_with", () => {
    expect(flow_contains("hello", "ell")).toBe(true);
    expect(flow_contains("hello", "")).toBe(true);
    expect(flow_contains("hello", "xyz")).toBe(false);
    expect(flow_starts_with("test_user", "test_")).toBe(true);
    expect(flow_starts_with("user", "test_")).toBe(false);
    expect(flow_ends_with("file.jsonl", ".jsonl")).toBe(true);
    expect(flow_ends_with("file.json", ".jsonl")).toBe(false);
  });

  it("substr is 0-based and clamps out-of-range parts", () => {
    expect(flow_substr("hello", 0, 2)).toBe("he");
    expect(flow_substr("hello", 1)).toBe("ello");
    expect(flow_substr("hello", 1, 3)).toBe("ell");
    expect(flow_substr("hello", 3, 10)).toBe("lo");
    expect(flow_substr("hello", 5)).toBe("");
    expect(flow_substr("hello", 9)).toBe("");
    expect(flow_substr("hello", 9, 2)).toBe("");
    expect(flow_substr("hello", -2, 4)).toBe("he");
    expect(flow_substr("hello", -10, 3)).toBe("");
    expect(flow_substr("hello", -2)).toBe("hello");
    expect(flow_substr("hello", 2, 0)).toBe("");
    expect(flow_substr("hello", 2, -1)).toBe("");
    expect(flow_substr("hello", 0)).toBe("hello");
    expect(flow_substr("", 0, 3)).toBe("");
    expect(flow_substr("a😀b", 1, 2)).toBe("😀");
  });

  it("replace is literal and replaces every occurrence", () => {
    expect(flow_replace("a.b.c", ".", "-")).toBe("a-b-c");
    expect(flow_replace("aaa", "aa", "b")).toBe("ba");
    expect(flow_replace("price: 5", "5", "$&$&")).toBe("price: $&$&");
    expect(flow_replace("x+y", "+", "$1")).toBe("x$1y");
    expect(flow_replace("abc", "", "x")).toBe("abc");
    expect(flow_replace("abc", "z", "x")).toBe("abc");
    expect(flow_replace("abab", "ab", "")).toBe("");
  });

  it("split", () => {
    expect(flow_split("a,b,,c", ",")).toEqual(["a", "b", "", "c"]);
    expect(flow_split("", ",")).toEqual([""]);
    expect(flow_split("abc", "")).toEqual(["a", "b", "c"]);
    expect(flow_split("https://www.nexmark.com/a/b/c/item.htm", "/")[3]).toBe("a");
  });

  it("matches uses JavaScript regexes, anywhere in the string", () => {
    expect(flow_matches("abc", "b")).toBe(true);
    expect(flow_matches("abc", "^b")).toBe(false);
    expect(flow_matches("abc", "^a.c$")).toBe(true);
    expect(flow_matches("ABC", "abc")).toBe(false);
    // Cached: the same pattern again (and no lastIndex state between calls).
    for (let i = 0; i < 3; i++) expect(flow_matches("xabcx", "abc")).toBe(true);
    expect(() => flow_matches("abc", "(")).toThrow(FlowRuntimeError);
    expect(() => flow_matches("abc", "(")).toThrow(/invalid regular expression/);
  });

  it("regex_extract returns the group of the first match or null", () => {
    const url = "https://www.nexmark.com/abc/de_f/ghi/item.htm?query=1&channel_id=1073741824";
    expect(flow_regex_extract(url, "(&|^)channel_id=([^&]*)", 2)).toBe("1073741824");
    expect(flow_regex_extract(url, "channel_id=[0-9]+")).toBe("channel_id=1073741824");
    expect(flow_regex_extract(url, "channel_id=([0-9]+)", 0)).toBe("channel_id=1073741824");
    expect(flow_regex_extract("a1b22c333", "[0-9]+")).toBe("1"); // the first match
    expect(flow_regex_extract("https://x/item.htm?query=1", "(&|^)channel_id=([^&]*)", 2)).toBeNull();
    expect(flow_regex_extract("b", "(a)|(b)", 1)).toBeNull(); // group did not take part
    expect(flow_regex_extract("b", "(a)|(b)", 2)).toBe("b");
    expect(flow_regex_extract("x", "(y)?x", 1)).toBeNull();
    expect(flow_regex_extract("", "^$")).toBe("");
    expect(() => flow_regex_extract("abc", "(b)", 2)).toThrow(/group 2 does not exist/);
    expect(() => flow_regex_extract("zzz", "(b)", 2)).toThrow(FlowRuntimeError);
    expect(() => flow_regex_extract("abc", "[")).toThrow(FlowRuntimeError);
  });

  it("regexError and regexGroupCount serve compile-time checks", () => {
    expect(regexError("a+b")).toBeNull();
    expect(regexError("(")).toMatch(/./);
    expect(regexGroupCount("a")).toBe(0);
    expect(regexGroupCount("(&|^)channel_id=([^&]*)")).toBe(2);
    expect(regexGroupCount("(?:x)(?<name>y)")).toBe(1);
  });
});

describe("times", () => {
  const t = (iso: string) => Date.parse(iso);

  it("hour and minute are UTC and 0-based", () => {
    expect(flow_hour(t("2026-01-01T00:00:00Z"))).toBe(0);
    expect(flow_hour(t("2026-01-01T23:59:59.999Z"))).toBe(23);
    expect(flow_minute(t("2026-01-01T23:59:59.999Z"))).toBe(59);
    expect(flow_hour(t("2026-03-05T08:30:00+02:00"))).toBe(6);
    expect(flow_minute(t("2026-03-05T08:30:00+02:00"))).toBe(30);
    expect(flow_hour(-1)).toBe(23);
    expect(flow_minute(-1)).toBe(59);
    for (let ms = -5e11; ms < 5e11; ms += 7_777_777_777) {
      const d = new Date(ms);
      expect(flow_hour(ms)).toBe(d.getUTCHours());
      expect(flow_minute(ms)).toBe(d.getUTCMinutes());
    }
  });

  it("day_of_week: 1 = Monday … 7 = Sunday", () => {
    expect(flow_day_of_week(0)).toBe(4); // 1970-01-01 Thursday
    expect(flow_day_of_week(-1)).toBe(3); // 1969-12-31 Wednesday
    expect(flow_day_of_week(t("2000-01-01T12:00:00Z"))).toBe(6); // Saturday
    expect(flow_day_of_week(t("2023-01-01T23:59:59Z"))).toBe(7); // Sunday
    expect(flow_day_of_week(t("2023-01-02T00:00:00Z"))).toBe(1); // Monday
    expect(flow_day_of_week(t("2026-01-01T00:00:00Z"))).toBe(4); // Thursday
    expect(flow_day_of_week(t("2015-07-15T00:00:00Z"))).toBe(3); // Wednesday
    expect(flow_day_of_week(t("1900-01-01T00:00:00Z"))).toBe(1); // Monday
    for (let ms = -5e12; ms < 5e12; ms += 86_400_000 * 37 + 12345) {
      expect(flow_day_of_week(ms)).toBe(((new Date(ms).getUTCDay() + 6) % 7) + 1);
    }
  });

  it("date is YYYY-MM-DD in UTC", () => {
    expect(flow_date(t("2026-01-01T23:59:59.999Z"))).toBe("2026-01-01");
    expect(flow_date(t("2024-02-29T12:00:00Z"))).toBe("2024-02-29");
    expect(flow_date(-1)).toBe("1969-12-31");
    expect(flow_date(t("0005-06-07T00:00:00Z"))).toBe("0005-06-07");
    expect(flow_date(-62167219200001)).toBe("-000001-12-31");
    expect(flow_date(253402300800000)).toBe("+010000-01-01");
    fc.assert(
      fc.property(fc.integer({ min: -62167219200000, max: 253402300799999 }), (ms) => {
        return flow_date(ms) === new Date(ms).toISOString().slice(0, 10);
      }),
      { numRuns: 20000 },
    );
  });

  it("trunc rounds down to a multiple of d since the epoch, floor for negatives", () => {
    expect(flow_trunc(1999, 1000)).toBe(1000);
    expect(flow_trunc(2000, 1000)).toBe(2000);
    expect(flow_trunc(0, 1000)).toBe(0);
    expect(flow_trunc(-1, 1000)).toBe(-1000);
    expect(flow_trunc(-1000, 1000)).toBe(-1000);
    expect(flow_trunc(-1001, 1000)).toBe(-2000);
    expect(flow_trunc(t("2026-01-01T10:37:12.345Z"), 3_600_000)).toBe(t("2026-01-01T10:00:00Z"));
    expect(flow_trunc(t("2026-01-01T10:37:12.345Z"), 86_400_000)).toBe(t("2026-01-01T00:00:00Z"));
    expect(flow_trunc(t("2026-01-01T10:37:12.345Z"), 10_000)).toBe(t("2026-01-01T10:37:10Z"));
    expect(() => flow_trunc(5, 0)).toThrow(FlowRuntimeError);
    expect(() => flow_trunc(5, -10)).toThrow(FlowRuntimeError);
  });
});

describe("the table of built-ins (catalog.ts)", () => {
  const spec = [
    "abs", "floor", "ceil", "sqrt", "pow", "round", "min", "max", "div", "int", "float", "string", "len",
    "lower", "upper", "trim", "contains", "starts_with", "ends_with", "substr", "replace", "split",
    "matches", "regex_extract", "hour", "minute", "day_of_week", "date", "trunc",
  ];
  const mod = B as unknown as Record<string, unknown>;
  const overloads = BUILTIN_FUNCTIONS.flatMap((f) => f.overloads.map((o) => ({ f, o })));
  /** Whether an export's code can throw FlowRuntimeError (directly or through its checking helpers). */
  const mayThrow = (fn: unknown) => /\bthrow\b|checkTime\(|cachedRegex\(/.test(String(fn));

  it("covers every scalar built-in and aggregate of LANGUAGE.md §5, once each", () => {
    const names = BUILTIN_FUNCTIONS.map((f) => f.name);
    expect(new Set(names).size).toBe(names.length);
    for (const name of spec) expect(names, name).toContain(name);
    expect(AGGREGATE_FUNCTIONS.map((a) => a.name).sort()).toEqual(
      ["count", "sum", "avg", "min", "max", "first", "last", "count_distinct", "approx_count_distinct", "percentile", "collect", "max_by", "min_by"].sort(),
    );
  });

  it("names, for each overload, a real export of builtins.ts with the declared arity (or an inline template)", () => {
    for (const { f, o } of overloads) {
      const what = `${f.name}(${o.params.join(", ")})`;
      expect(o.inline !== undefined || o.export !== undefined, what).toBe(true);
      const min = o.min ?? o.params.length;
      expect(min >= 0 && min <= o.params.length, what).toBe(true);
      if (o.export === undefined) continue;
      expect(typeof mod[o.export], `${what}: ${o.export}`).toBe("function");
      const len = (mod[o.export] as (...a: unknown[]) => unknown).length;
      expect(len >= min && len <= o.params.length, `${what}: ${o.export} takes ${len} parameters`).toBe(true);
    }
    for (const h of OPERATOR_HELPERS) {
      expect(typeof mod[h.export], h.export).toBe("function");
      expect((mod[h.export] as (...a: unknown[]) => unknown).length, h.export).toBe(h.params.length);
    }
  });

  it("lists every flow_* export of builtins.ts", () => {
    const named = new Set([...overloads.flatMap(({ o }) => (o.export ? [o.export] : [])), ...OPERATOR_HELPERS.map((h) => h.export)]);
    const exports = Object.keys(mod).filter((k) => k.startsWith("flow_"));
    expect(exports.filter((k) => !named.has(k)), "exports missing from the table").toEqual([]);
    expect(exports.length).toBeGreaterThan(30);
  });

  it("says which overloads can throw: exactly those whose export can", () => {
    for (const { f, o } of overloads) {
      const what = `${f.name}(${o.params.join(", ")})`;
      if (o.inline !== undefined) expect(o.throws ?? false, `${what}: an inline template must not throw`).toBe(false);
      else expect(o.throws ?? false, `${what} → ${o.export}`).toBe(mayThrow(mod[o.export!]));
    }
    for (const h of OPERATOR_HELPERS) expect(h.throws, h.export).toBe(mayThrow(mod[h.export]));
    // The ones LANGUAGE.md names as run-time errors.
    for (const e of ["flow_div", "flow_sqrt", "flow_pow", "flow_int", "flow_date", "flow_trunc", "flow_matches", "flow_regex_extract", "flow_time_string"]) {
      expect(overloads.some(({ o }) => o.export === e && o.throws), e).toBe(true);
    }
  });

  it("inline templates compute what the export computes", () => {
    const sample: Record<string, unknown> = { int: -7, float: -2.5, N: -2.5, bool: true, string: " Ab,c ", time: 1_767_225_600_000, duration: -1500, "[string]": ["a"], "[any]": [1, 2] };
    const second: Record<string, unknown> = { int: 3, float: 4.25, N: 4.25, string: "b", time: 5, duration: 60_000 };
    let compared = 0;
    for (const { f, o } of overloads) {
      if (o.inline === undefined || o.export === undefined) continue;
      const args = o.params.map((p, i) => (i === 0 ? sample[p] : second[p]));
      const src = o.inline.replace(/\$(\d)/g, (_, i: string) => `(${JSON.stringify(args[Number(i)])})`);
      expect(new Function(`return ${src};`)(), `${f.name}(${o.params.join(", ")})`).toEqual((mod[o.export] as (...a: unknown[]) => unknown)(...args));
      compared++;
    }
    expect(compared).toBeGreaterThan(10);
  });

  it("describes the aggregates consistently", () => {
    for (const a of AGGREGATE_FUNCTIONS) {
      expect(a.minArity <= a.maxArity && a.inputs.length === a.maxArity, a.name).toBe(true);
      // What arrives first matters only to these (and makes merging states impossible).
      if (a.orderDependent) expect(a.mergeable, a.name).toBe(false);
    }
    expect(AGGREGATE_FUNCTIONS.filter((a) => a.orderDependent).map((a) => a.name).sort()).toEqual(["collect", "first", "last", "max_by", "min_by"]);
  });

  it("is a pure data module: no imports, so the compiler may read it", () => {
    const text = readFileSync(new URL("./catalog.ts", import.meta.url), "utf8");
    expect(text).not.toMatch(/^\s*import\s/m);
    expect(text).not.toMatch(/\brequire\(/);
  });
});

describe("parsing strings", () => {
  it("int(s) and float(s) give null for text that is no number", async () => {
    const { flow_parse_int, flow_parse_float } = await import("./builtins.js");
    expect(flow_parse_int(" 42 ")).toBe(42);
    expect(flow_parse_int("-7")).toBe(-7);
    expect(flow_parse_int("4.2")).toBeNull();
    expect(flow_parse_int("9007199254740993")).toBeNull();
    expect(flow_parse_int("")).toBeNull();
    expect(flow_parse_float("1.5e3")).toBe(1500);
    expect(flow_parse_float(".5")).toBe(0.5);
    expect(flow_parse_float("abc")).toBeNull();
    expect(flow_parse_float("Infinity")).toBeNull();
  });
});
