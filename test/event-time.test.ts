// `event time EXPR` (LANGUAGE.md §10 "Time from text"): the time computed from the record, on
// every kind of source; a null time or a failing built-in makes the record bad, with its line.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { flowc, TMP } from "./helpers";

let dir: string;
beforeAll(() => {
  mkdirSync(TMP, { recursive: true });
  dir = mkdtempSync(join(TMP, "event-time-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(program: string, files: Record<string, string> = {}, input?: string) {
  const d = mkdtempSync(join(dir, "case-"));
  writeFileSync(join(d, "p.flow"), program);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return flowc(["run", "p.flow"], { cwd: d, input });
}
const rows = (s: string) => s.split("\n").filter((l) => l).map((l) => JSON.parse(l));

describe("event time from an expression", () => {
  it("windows a range by a computed time", async () => {
    const r = await run(`source xs: int = range(0, 25) event time from_epoch_s(it)\nemit xs | window tumbling(10s) | agg n = count()`);
    expect(rows(r.stdout).map((x) => x.n)).toEqual([10, 10, 5]);
    expect(r.code).toBe(0);
  });

  it("reads an access log's own timestamps from stdin (lines); a line without one is bad", async () => {
    const program =
      `source log: string = stdin(format: "lines") event time parse_time(regex_extract(it, "\\\\[([^\\\\]]+)\\\\]", 1) ?? "", "%d/%b/%Y:%H:%M:%S %z")\n` +
      `emit log | window tumbling(1m) | agg hits = count()`;
    const input = [
      `1.2.3.4 - - [04/Jan/2026:13:00:05 +0100] "GET / HTTP/1.1" 200 1`,
      `1.2.3.4 - - [04/Jan/2026:13:00:50 +0100] "GET /a HTTP/1.1" 404 1`,
      `garbage`,
      `1.2.3.4 - - [04/Jan/2026:12:01:10 +0000] "GET /b HTTP/1.1" 200 1`,
    ].join("\n") + "\n";
    const r = await run(program, {}, input);
    expect(rows(r.stdout)).toEqual([
      { window_start: "2026-01-04T12:00:00.000Z", window_end: "2026-01-04T12:01:00.000Z", hits: 2 },
      { window_start: "2026-01-04T12:01:00.000Z", window_end: "2026-01-04T12:02:00.000Z", hits: 1 },
    ]);
    expect(r.stderr).toContain("<stdin>:3: the event time is null");
  });

  it("a built-in failing in the event time makes that record bad", async () => {
    const r = await run(`type E = { s: float }\nsource es: E = file("e.jsonl") event time from_epoch_s(s)\nemit es`, { "e.jsonl": '{"s":1}\n{"s":1e300}\n{"s":2}\n' });
    expect(rows(r.stdout)).toEqual([{ s: 1 }, { s: 2 }]);
    expect(r.stderr).toMatch(/e\.jsonl:2: event time: .*outside the range of times/);
  });

  it("an event time that is not a time is a compile error", async () => {
    const r = await run(`type E = { s: int }\nsource es: E = file("e.jsonl") event time s + 1\nemit es`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E0225]: the event time must be a time, found int");
  });
});
