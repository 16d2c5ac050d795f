import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { flow_format_time, flow_from_epoch_ms, flow_from_epoch_s, flow_parse_time } from "./time-text.js";
import { FlowRuntimeError } from "./errors.js";

const t = (iso: string) => Date.parse(iso);

describe("parse_time", () => {
  it("reads ISO-8601 without a format, as input records do", () => {
    expect(flow_parse_time("2026-01-04T13:00:00Z")).toBe(t("2026-01-04T13:00:00Z"));
    expect(flow_parse_time("2026-01-04T13:00")).toBe(t("2026-01-04T13:00:00Z"));
    expect(flow_parse_time("2026-01-04T13:00:05.25+01:00")).toBe(t("2026-01-04T12:00:05.250Z"));
    expect(flow_parse_time("2026-02-30T00:00:00Z")).toBeNull();
    expect(flow_parse_time("yesterday")).toBeNull();
    expect(flow_parse_time("2026-01-04T13:00:00Zjunk")).toBeNull();
  });

  it("reads an access log's timestamp with its offset", () => {
    const f = "%d/%b/%Y:%H:%M:%S %z";
    expect(flow_parse_time("04/Jan/2026:13:00:00 +0100", f)).toBe(t("2026-01-04T12:00:00Z"));
    expect(flow_parse_time("04/Jan/2026:13:00:00 -0230", f)).toBe(t("2026-01-04T15:30:00Z"));
    expect(flow_parse_time("04/jan/2026:13:00:00 +05:30", f)).toBe(t("2026-01-04T07:30:00Z"));
    expect(flow_parse_time("04/Jan/2026:13:00:00 Z", f)).toBe(t("2026-01-04T13:00:00Z"));
    expect(flow_parse_time("31/Feb/2026:13:00:00 +0000", f)).toBeNull();
    expect(flow_parse_time("04/Foo/2026:13:00:00 +0000", f)).toBeNull();
    expect(flow_parse_time("04/Jan/2026:13:00:00", f)).toBeNull();
    expect(flow_parse_time("2026-01-04 13:00:00.123", "%Y-%m-%d %H:%M:%S.%L")).toBe(t("2026-01-04T13:00:00.123Z"));
    expect(flow_parse_time("100%", "100%%")).toBe(0);
  });

  it("round-trips format_time for any time and format", () => {
    const fmt = fc.constantFrom("%Y-%m-%dT%H:%M:%S.%L%z", "%d/%b/%Y:%H:%M:%S.%L %z", "%Y%m%d%H%M%S%L");
    fc.assert(fc.property(fc.integer({ min: 0, max: 253402300799999 }), fmt, (ms, f) => {
      expect(flow_parse_time(flow_format_time(ms, f), f)).toBe(ms);
    }));
  });
});

describe("format_time and epochs", () => {
  it("formats in UTC", () => {
    expect(flow_format_time(t("2026-01-04T13:05:09.007Z"), "%d/%b/%Y %H:%M:%S.%L %z %%")).toBe("04/Jan/2026 13:05:09.007 +0000 %");
  });
  it("converts epoch seconds and milliseconds, rejecting what is no time", () => {
    expect(flow_from_epoch_s(1767531600)).toBe(t("2026-01-04T13:00:00Z"));
    expect(flow_from_epoch_s(1.2345)).toBe(1235);
    expect(flow_from_epoch_ms(1767531600000)).toBe(t("2026-01-04T13:00:00Z"));
    expect(() => flow_from_epoch_s(1e300)).toThrow(FlowRuntimeError);
    expect(() => flow_from_epoch_ms(NaN)).toThrow(FlowRuntimeError);
  });
});

describe("parse_time without a format reads ISO-8601 as input records do", () => {
  // The runtime's parser (runtime/src/time.ts) reads input records; the stdlib may not import it,
  // so this test keeps the two in step.
  it("agrees with the runtime's parseIsoTime on ISO-like text", async () => {
    const { parseIsoTime } = await import("../../runtime/src/time.js");
    const d = (lo: number, hi: number, w: number) => fc.integer({ min: lo, max: hi }).map((n) => String(n).padStart(w, "0"));
    const text = fc
      .tuple(
        fc.oneof(d(0, 9999, 4), fc.constantFrom("+002026", "-000001", "-000000", "+275760", "20261")),
        d(0, 13, 2), d(0, 32, 2), fc.constantFrom("T", "t", " ", "x"), d(0, 24, 2), d(0, 60, 2),
        fc.option(fc.tuple(d(0, 60, 2), fc.option(fc.stringMatching(/^[0-9]{0,10}$/)))),
        fc.constantFrom("", "Z", "z", "+01:00", "-02:30", "+0100", "+24:00", "+01:60", "+1", "Q"),
      )
      .map(([y, mo, da, sep, h, mi, sec, zone]) => `${y}-${mo}-${da}${sep}${h}:${mi}${sec ? `:${sec[0]}${sec[1] !== null ? `.${sec[1]}` : ""}` : ""}${zone}`);
    fc.assert(fc.property(text, (s) => {
      expect(flow_parse_time(s), s).toBe(parseIsoTime(s) ?? null);
    }), { numRuns: 3000 });
  });
});
