// `flowc test` (LANGUAGE.md §14) end to end: one line per test, the first differing row with both
// versions, the field that differs and the window bounds, the summary line, exit codes.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureCli, flowc, ROOT } from "./helpers";

beforeAll(() => ensureCli());

const dir = mkdtempSync(join(tmpdir(), "flowc-tests-"));
const write = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};

const PROGRAM = `type Bid = { auction: int, bidder: int, price: int, channel: string, dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime
emit bids | window tumbling(10s) | agg n = count()
`;
const INPUT = `  input bids = [
    { auction: 1, bidder: 7, price: 10, channel: "a", dateTime: @2026-01-01T00:00:01Z },
    { auction: 1, bidder: 8, price: 30, channel: "a", dateTime: @2026-01-01T00:00:12Z },
    { auction: 1, bidder: 9, price: 20, channel: "a", dateTime: @2026-01-01T00:00:02Z }
  ]`;

describe("flowc test", () => {
  it("runs LANGUAGE.md's example: a late bid is dropped", async () => {
    const f = write("late.flow", `${PROGRAM}
test "a late bid is dropped" {
${INPUT}
  expect out1 = [
    { window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, n: 1 },
    { window_start: @2026-01-01T00:00:10Z, window_end: @2026-01-01T00:00:20Z, n: 1 }
  ]
  expect late = 1
}
`);
    const r = await flowc(["test", f]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^pass .*late\.flow:5 "a late bid is dropped" \(\d+ ms\)\n1 passed, 0 failed\n$/);
  });

  it("a wrong expectation fails with a diff naming the row and the field, and exits 1", async () => {
    const f = write("wrong.flow", `${PROGRAM}
test "right" {
${INPUT}
  expect late = 1
}
test "wrong count" {
${INPUT}
  expect out1 = [
    { window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, n: 1 },
    { window_start: @2026-01-01T00:00:10Z, window_end: @2026-01-01T00:00:20Z, n: 5 }
  ]
  expect late = 0
}
`);
    const r = await flowc(["test", f]);
    expect(r.code).toBe(1);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toMatch(/^pass .*wrong\.flow:5 "right"/);
    expect(lines[1]).toMatch(/^FAIL .*wrong\.flow:13 "wrong count"$/);
    expect(r.stdout).toContain("out1: row 2 differs (expected at line 21)");
    expect(r.stdout).toContain('expected: {"window_start":"2026-01-01T00:00:10.000Z","window_end":"2026-01-01T00:00:20.000Z","n":5}');
    expect(r.stdout).toContain('actual:   {"window_start":"2026-01-01T00:00:10.000Z","window_end":"2026-01-01T00:00:20.000Z","n":1}');
    expect(r.stdout).toContain("field `n`: expected 5, got 1");
    expect(r.stdout).toContain("window [2026-01-01T00:00:10.000Z, 2026-01-01T00:00:20.000Z)");
    expect(r.stdout).toMatch(/>\s+2 \{"window_start"/); // the context rows, the differing one marked
    expect(r.stdout).toContain("late: expected 0, got 1");
    expect(lines.at(-2)).toBe("1 passed, 1 failed");
  });

  it("a deliberately wrong expectation in an example fails naming the row and field", async () => {
    const src = readFileSync(join(ROOT, "examples/trades/vwap.flow"), "utf8");
    expect(src).toContain("vol: 400, vwap: 11.5");
    const f = write("vwap.flow", src.replace("vol: 400, vwap: 11.5", "vol: 400, vwap: 11.25"));
    const r = await flowc(["test", f]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("out1: row 1 differs");
    expect(r.stdout).toContain("field `vwap`: expected 11.25, got 11.5");
    expect(r.stdout).toContain("window [2026-01-01T00:00:00.000Z, 2026-01-01T00:01:00.000Z)");
  });

  it("updating outputs: changes, final and unordered, with Debezium inputs", async () => {
    const f = write("cdc.flow", `type User = { id: int, name: string, country: string, at: time }
source users: User = file("users.jsonl", format: "debezium") key id event time at
emit final users_now = users
emit per_country = users | group by country | agg users = count()
test "changes" {
  input users = [
    { op: "upsert", row: { id: 1, name: "Ana", country: "PT", at: @2026-01-01T00:00:01Z } },
    { op: "upsert", row: { id: 2, name: "Ben", country: "DE", at: @2026-01-01T00:00:02Z } },
    { op: "upsert", row: { id: 1, name: "Ana", country: "DE", at: @2026-01-01T00:00:03Z } },
    { op: "delete", key: { id: 2 } },
  ]
  expect users_now final = [{ id: 1, name: "Ana", country: "DE", at: @2026-01-01T00:00:03Z }]
  expect per_country changes = [
    { op: "upsert", row: { country: "PT", users: 1 } },
    { op: "upsert", row: { country: "DE", users: 1 } },
    { op: "delete", key: { country: "PT" } },
    { op: "upsert", row: { country: "DE", users: 2 } },
    { op: "upsert", row: { country: "DE", users: 1 } },
  ]
  expect per_country final = [{ country: "DE", users: 1 }]
  expect per_country unordered = [{ country: "DE", users: 2 }, { country: "DE", users: 1 }, { country: "PT", users: 1 }, { country: "DE", users: 1 }]
}
test "wrong final" {
  input users = [{ op: "upsert", row: { id: 1, name: "Ana", country: "PT", at: @2026-01-01T00:00:01Z } }]
  expect per_country final = [{ country: "PT", users: 2 }]
}
`);
    const r = await flowc(["test", f]);
    expect(r.stdout).toMatch(/^pass .*"changes"/m);
    expect(r.stdout).toContain("per_country final: 1 expected row not produced, 1 produced row not expected");
    expect(r.stdout).toContain("nearest extra row: field `users`: expected 2, got 1");
    expect(r.stdout).toMatch(/1 passed, 1 failed\n$/);
    expect(r.code).toBe(1);
  });

  it("a program with a type error in a test does not run, and exits 1", async () => {
    const f = write("typo.flow", `${PROGRAM}
test "typo" {
  expect out1 = [{ window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, count: 1 }]
}
`);
    const r = await flowc(["test", f]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error[E0201]: unknown field `count`");
    expect(r.stdout).toMatch(/FAIL .*typo\.flow: does not compile/);
    expect(r.stdout).toContain("0 passed, 1 failed");
  });

  it("run ignores test blocks", async () => {
    write("bids.jsonl", '{"auction":1,"bidder":1,"price":1,"channel":"a","dateTime":"2026-01-01T00:00:01Z"}\n');
    const f = write("ignored.flow", `${PROGRAM}\ntest "t" {\n${INPUT}\n  expect late = 1\n}\n`);
    const r = await flowc(["run", f, "--quiet"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('{"window_start":"2026-01-01T00:00:00.000Z","window_end":"2026-01-01T00:00:10.000Z","n":1}\n');
  });

  it("file inputs, relative to the program; a missing file fails the test", async () => {
    write("in.jsonl", '{"auction":1,"bidder":1,"price":1,"channel":"a","dateTime":"2026-01-01T00:00:01Z"}\n{"bad": true}\n');
    const f = write("files.flow", `${PROGRAM}
test "from a file" {
  input bids = file("in.jsonl")
  expect out1 = [{ window_start: @2026-01-01T00:00:00Z, window_end: @2026-01-01T00:00:10Z, n: 1 }]
  expect bad = 1
}
test "missing" {
  input bids = file("nope.jsonl")
}
`);
    const r = await flowc(["test", f]);
    expect(r.stdout).toMatch(/^pass .*"from a file"/m);
    expect(r.stdout).toMatch(/^FAIL .*"missing"\n\s+cannot read nope\.jsonl/m);
    expect(r.code).toBe(1);
  });

  it("usage: no file is exit 2", async () => {
    const r = await flowc(["test"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("give one or more .flow files");
  });
});
