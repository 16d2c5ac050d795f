import { describe, expect, it } from "vitest";
import { daysFromCivil, formatTime, parseIsoTime, parseTime, parseTimeText } from "./time.js";

const T0 = Date.UTC(2026, 0, 1); // 1767225600000

describe("parseTime", () => {
  it("accepts epoch milliseconds", () => {
    expect(parseTime(1767225600000)).toBe(1767225600000);
    expect(parseTime(0)).toBe(0);
    expect(parseTime(-1)).toBe(-1);
    expect(parseTime(1.9)).toBe(1); // ms precision: floored
    expect(parseTime(-0.5)).toBe(-1);
  });

  it("rejects non-finite and out-of-range numbers", () => {
    expect(parseTime(NaN)).toBeUndefined();
    expect(parseTime(Infinity)).toBeUndefined();
    expect(parseTime(8.64e15 + 1)).toBeUndefined();
    expect(parseTime(8.64e15)).toBe(8.64e15);
  });

  it("accepts ISO-8601 with Z, offsets or no zone", () => {
    expect(parseTime("2026-01-01T00:00:00Z")).toBe(T0);
    expect(parseTime("2026-01-01T00:00:00.000Z")).toBe(T0);
    expect(parseTime("2026-01-01T00:00Z")).toBe(T0);
    expect(parseTime("2026-01-01T00:00")).toBe(T0);
    expect(parseTime("2026-01-01T00:00:10")).toBe(T0 + 10_000);
    expect(parseTime("2026-01-01T01:00:00+01:00")).toBe(T0);
    expect(parseTime("2025-12-31T23:30:00-00:30")).toBe(T0);
    expect(parseTime("2026-01-01T00:00:00.7Z")).toBe(T0 + 700);
    expect(parseTime("2026-01-01T00:00:00.07Z")).toBe(T0 + 70);
    expect(parseTime("2026-01-01T00:00:00.123456789Z")).toBe(T0 + 123); // truncated, not rounded
    expect(parseTime("2026-01-01T00:00:00.999999Z")).toBe(T0 + 999);
  });

  it("accepts a space or lowercase t/z", () => {
    expect(parseTime("2026-01-01 00:00:00")).toBe(T0);
    expect(parseTime("2026-01-01t00:00:00z")).toBe(T0);
  });

  it("agrees with Date.parse on many instants", () => {
    for (let i = 0; i < 2000; i++) {
      const t = Math.floor((i * 7919.123 * 86_400_000) % 4e12) - 1e12;
      const iso = new Date(t).toISOString();
      expect(parseTime(iso)).toBe(t);
    }
  });

  it("rejects impossible dates and times", () => {
    for (const s of [
      "2026-02-30T00:00:00Z",
      "2026-02-29T00:00:00Z", // not a leap year
      "2026-13-01T00:00:00Z",
      "2026-00-01T00:00:00Z",
      "2026-01-00T00:00:00Z",
      "2026-01-32T00:00:00Z",
      "2026-04-31T00:00:00Z",
      "2026-01-01T24:00:00Z",
      "2026-01-01T23:60:00Z",
      "2026-01-01T23:59:60Z",
      "2026-01-01T00:00:00+24:00",
      "2026-01-01T00:00:00+01:60",
      "1900-02-29T00:00:00Z",
    ]) {
      expect(parseTime(s), s).toBeUndefined();
    }
    expect(parseTime("2024-02-29T00:00:00Z")).toBe(Date.UTC(2024, 1, 29));
    expect(parseTime("2000-02-29T00:00:00Z")).toBe(Date.UTC(2000, 1, 29));
  });

  it("rejects malformed text", () => {
    for (const s of [
      "",
      "yesterday",
      "2026-01-01", // a date alone is not a time
      "2026-01-01T",
      "2026-01-01T00",
      "2026-01-01T0:00",
      "2026-1-01T00:00",
      "26-01-01T00:00",
      "2026/01/01T00:00",
      "2026-01-01T00:00:0",
      "2026-01-01T00:00:00.",
      "2026-01-01T00:00:00.1234567890Z",
      "2026-01-01T00:00:00ZZ",
      "2026-01-01T00:00:00+0100",
      "2026-01-01T00:00:00+01",
      "2026-01-01T00:00:00 Z",
      " 2026-01-01T00:00:00Z",
      "2026-01-01T00:00:00Z ",
      "1767225600000", // digits in JSON strings are not epoch ms (they are in CSV: parseTimeText)
      "２０２６-01-01T00:00:00Z",
    ]) {
      expect(parseTime(s), JSON.stringify(s)).toBeUndefined();
    }
  });

  it("rejects other types, accepts Dates", () => {
    expect(parseTime(null)).toBeUndefined();
    expect(parseTime(undefined)).toBeUndefined();
    expect(parseTime(true)).toBeUndefined();
    expect(parseTime({})).toBeUndefined();
    expect(parseTime([T0])).toBeUndefined();
    expect(parseTime(new Date(T0))).toBe(T0);
    expect(parseTime(new Date(NaN))).toBeUndefined();
  });

  it("handles years 0..99 and extended years", () => {
    expect(parseTime("0000-01-01T00:00:00Z")).toBe(new Date("0000-01-01T00:00:00Z").getTime());
    expect(parseTime("0099-12-31T23:59:59.999Z")).toBe(new Date("0099-12-31T23:59:59.999Z").getTime());
    expect(parseTime("+010000-01-01T00:00:00Z")).toBe(new Date("+010000-01-01T00:00:00Z").getTime());
    expect(parseTime("-000001-01-01T00:00:00Z")).toBe(new Date("-000001-01-01T00:00:00Z").getTime());
    expect(parseTime("-000000-01-01T00:00:00Z")).toBeUndefined();
    expect(parseTime("+275760-09-13T00:00:00Z")).toBe(8.64e15);
    expect(parseTime("+275760-09-13T00:00:00.001Z")).toBeUndefined();
  });
});

describe("parseTimeText", () => {
  it("reads digits as epoch ms and everything else as ISO", () => {
    expect(parseTimeText("1767225600000")).toBe(T0);
    expect(parseTimeText("-1000")).toBe(-1000);
    expect(parseTimeText("0")).toBe(0);
    expect(parseTimeText("2026-01-01T00:00:00.000Z")).toBe(T0);
    expect(parseTimeText("")).toBeUndefined();
    expect(parseTimeText("-")).toBeUndefined();
    expect(parseTimeText("1.5")).toBeUndefined();
    expect(parseTimeText(" 1")).toBeUndefined();
    expect(parseTimeText("99999999999999999")).toBeUndefined(); // beyond the Date range
  });
});

describe("formatTime", () => {
  it("prints UTC with milliseconds", () => {
    expect(formatTime(T0)).toBe("2026-01-01T00:00:00.000Z");
    expect(formatTime(T0 + 10_000)).toBe("2026-01-01T00:00:10.000Z");
    expect(formatTime(T0 - 1)).toBe("2025-12-31T23:59:59.999Z");
    expect(formatTime(0)).toBe("1970-01-01T00:00:00.000Z");
    expect(formatTime(-1)).toBe("1969-12-31T23:59:59.999Z");
    expect(formatTime(1.7)).toBe("1970-01-01T00:00:00.001Z");
  });

  it("matches Date#toISOString across the whole Date range", () => {
    const samples = [-8.64e15, 8.64e15, -62198755200000, -62167219200001, -62135596800000, 253402300799999, 253402300800000];
    for (let i = 0; i < 5000; i++) samples.push(Math.floor(Math.sin(i) * 8.64e15), Math.floor(Math.cos(i) * 4e12));
    for (const t of samples) expect(formatTime(t)).toBe(new Date(t).toISOString());
  });

  it("round-trips with parseTime", () => {
    for (let t = -5e12; t < 5e12; t += 123_456_789_01) expect(parseTime(formatTime(t))).toBe(t);
  });

  it("throws on non-finite values", () => {
    expect(() => formatTime(NaN)).toThrow(RangeError);
    expect(() => formatTime(Infinity)).toThrow(RangeError);
  });

  it("daysFromCivil agrees with Date.UTC", () => {
    for (const [y, m, d] of [
      [1970, 1, 1],
      [2000, 2, 29],
      [1600, 3, 1],
      [2400, 12, 31],
      [1, 1, 1],
    ] as const) {
      const u = new Date(0);
      u.setUTCFullYear(y, m - 1, d);
      u.setUTCHours(0, 0, 0, 0);
      expect(daysFromCivil(y, m, d) * 86_400_000).toBe(u.getTime());
    }
  });
});

describe("parseIsoTime", () => {
  it("is exported for text that is known to be ISO", () => {
    expect(parseIsoTime("2026-01-01T00:00:00Z")).toBe(T0);
  });
});
