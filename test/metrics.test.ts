// `--metrics HOST:PORT` (LANGUAGE.md §10) on a live run (records on stdin, the real CLI):
// /metrics in Prometheus text format with the counters of §10, /healthz up; usage errors.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { FLOWC, ensureCli, flowc, testDir } from "./helpers";
import { freePort, waitFor } from "./servers";

beforeAll(() => ensureCli());

const get = async (port: number, path: string) => {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: r.status, body: await r.text(), type: r.headers.get("content-type") };
};

describe("--metrics", () => {
  it("serves the run's counters and health while it waits for input", async () => {
    const dir = testDir("metrics-");
    writeFileSync(
      join(dir, "p.flow"),
      `type R = { k: string, v: int, ts: time }
source rs: R = stdin() event time ts watermark 0s
emit per_10s = rs | window tumbling(10s) | group by k | agg n = count()
`,
    );
    const port = await freePort();
    const p = spawn(FLOWC, ["run", "p.flow", "--metrics", `127.0.0.1:${port}`], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    p.stdout!.on("data", (b: Buffer) => (out += b));
    const exit = new Promise<number | null>((res) => p.once("exit", (c) => res(c)));
    p.stdin!.write(['{"k":"a","v":1,"ts":1000}', '{"k":"a","v":2,"ts":15000}', "not json", '{"k":"b","v":3,"ts":2000}', '{"k":"a","v":4,"ts":21000}', ""].join("\n"));
    await waitFor("the first window's row", () => out.includes('"n":1'), 30_000);
    const m = await get(port, "/metrics");
    expect(m.status).toBe(200);
    expect(m.type).toContain("text/plain; version=0.0.4");
    expect(m.body).toContain('flowc_source_records_total{source="rs"} 4');
    expect(m.body).toContain('flowc_source_bad_records_total{source="rs"} 1');
    expect(m.body).toContain('flowc_late_records_total{operator="p.flow:3 window agg"} 1');
    expect(m.body).toContain('flowc_watermark_seconds{source="rs"} 21');
    expect(m.body).toMatch(/flowc_output_rows_total\{output="per_10s"\} [12]/);
    // One key in the one window still open ([20s, 30s)).
    expect(m.body).toContain('flowc_state_entries{operator="p.flow:3 windowAgg"} 1');
    expect(m.body).toContain("# TYPE flowc_source_records_total counter");
    const h = await get(port, "/healthz");
    expect([h.status, JSON.parse(h.body)]).toEqual([200, { status: "ok" }]);
    expect((await get(port, "/nothing")).status).toBe(404);
    p.stdin!.end();
    expect(await exit).toBe(0);
  });

  it("a malformed address is a usage error (exit 2)", async () => {
    const dir = testDir("metrics-bad-");
    writeFileSync(join(dir, "p.flow"), "source n: int = range(0, 3)\nemit n\n");
    const r = await flowc(["run", "p.flow", "--metrics", "localhost:http"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--metrics expects HOST:PORT");
  });
});

describe("--metrics with --checkpoint", () => {
  it("adds the checkpoint duration histogram and the last success time", async () => {
    const dir = testDir("metrics-ck-");
    writeFileSync(join(dir, "p.flow"), `type R = { k: string, ts: time }
source rs: R = stdin() event time ts
emit rs | window tumbling(10s) | group by k | agg n = count()
`);
    const port = await freePort();
    const p = spawn(FLOWC, ["run", "p.flow", "--metrics", `127.0.0.1:${port}`, "--checkpoint", "ck", "--checkpoint-every", "100ms"], { cwd: dir, stdio: ["pipe", "pipe", "pipe"] });
    const exit = new Promise<number | null>((res) => p.once("exit", (c) => res(c)));
    // Checkpoints are taken between batches: records keep coming while the test polls.
    let ts = 1000;
    let body = "";
    await waitFor("a checkpoint in the metrics", async () => {
      p.stdin!.write(`{"k":"a","ts":${(ts += 1000)}}\n`);
      await new Promise((r) => setTimeout(r, 150));
      body = await get(port, "/metrics").then((m) => m.body).catch(() => "");
      return /flowc_checkpoint_duration_seconds_count [1-9]/.test(body);
    }, 30_000);
    expect(body).toContain("# TYPE flowc_checkpoint_duration_seconds histogram");
    expect(body).toMatch(/flowc_checkpoint_duration_seconds_bucket\{le="\+Inf"\} [1-9]/);
    expect(body).toMatch(/flowc_checkpoint_last_success_timestamp_seconds \d+/);
    p.stdin!.end();
    expect(await exit).toBe(0);
  });
});
