// The HTTP ingest source, the HTTP sink and the Postgres sink through `flowc run`, against a
// real Postgres 15 (test/servers.ts) and HTTP servers in this process: exact rows and column
// types, every ingest answer (200 with bad lines, 400, 404, 405, 413, 503 + Retry-After under
// backpressure from a slow sink), Postgres killed and restarted mid-run (nothing lost).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCli, flowc, testDir } from "./helpers";
import { freePort, haveServer, runBuilt, runLive, sleep, startPostgres, waitFor } from "./servers";

beforeAll(() => ensureCli());

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

async function post(port: number, body: string | Uint8Array, path = "/ingest", method = "POST"): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body: method === "GET" ? undefined : (body as string) });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** Waits until the run's ingest server answers. */
async function listening(port: number): Promise<void> {
  await waitFor("the ingest server", async () => {
    try {
      await fetch(`http://127.0.0.1:${port}/`, { method: "GET" });
      return true;
    } catch {
      return false;
    }
  });
}

describe("http ingest source", () => {
  it("answers 200 with accepted and bad lines once records went through; 400, 404, 405, 413", async () => {
    const dir = testDir("http-ingest");
    const port = await freePort();
    writeFileSync(join(dir, "p.flow"), `type Hit = { page: string, n: int }\nsource hits: Hit = http(port: ${port}, path: "/ingest")\nemit hits | select page, n2 = n * 2\n`);
    const run = runLive(["p.flow", "--dead-letter", "dead.jsonl"], dir);
    await listening(port);
    const one = await post(port, `{"page":"/a","n":1}`);
    expect([one.status, JSON.parse(one.body)]).toEqual([200, { accepted: 1, bad: [] }]);
    // By the time of the answer the row has gone through and been flushed (§10): it reaches
    // this process through the pipe at once.
    await waitFor("the row on stdout", () => lines(run.stdout()).length === 1, 2000);
    expect(lines(run.stdout())).toEqual([`{"page":"/a","n2":2}`]);
    const array = await post(port, `[{"page":"/b","n":2},{"page":"/c","n":"x"},{"page":"/d","n":4}]`);
    expect([array.status, JSON.parse(array.body)]).toEqual([200, { accepted: 2, bad: [{ line: 2, error: `field "n": expected int, got "x"` }] }]);
    const jsonl = await post(port, `{"page":"/e","n":5}\nnot json\n\n{"page":"/f"}\n{"page":"/g","n":7}\n`);
    expect(jsonl.status).toBe(200);
    expect(JSON.parse(jsonl.body)).toMatchObject({ accepted: 2, bad: [{ line: 2 }, { line: 4, error: `field "n": missing` }] });
    expect((await post(port, "this is not JSON at all")).status).toBe(400);
    expect((await post(port, `{}`, "/other")).status).toBe(404);
    const get = await post(port, "", "/ingest", "GET");
    expect([get.status, get.headers.get("allow")]).toEqual([405, "POST"]);
    const huge = await post(port, new Uint8Array(16 * 1024 * 1024 + 1).fill(0x20)).catch((e) => ({ status: -1, body: String(e), headers: new Headers() }));
    expect(huge.status).toBe(413);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(lines(run.stdout())).toEqual([`{"page":"/a","n2":2}`, `{"page":"/b","n2":4}`, `{"page":"/d","n2":8}`, `{"page":"/e","n2":10}`, `{"page":"/g","n2":14}`]);
    expect(run.stderr()).toContain(`http POST /ingest line 2: field "n": expected int, got "x"`);
    expect(run.stderr()).toMatch(/interrupted, 5 in \(hits 5\), 5 out, 0 late, 3 bad/);
  });

  it("a program built with `flowc build` runs its network connectors (the client imported at run time)", async () => {
    const dir = testDir("http-built");
    const port = await freePort();
    writeFileSync(join(dir, "p.flow"), `source xs: { n: int } = http(port: ${port})\nemit xs | select m = n + 1\n`);
    const built = await flowc(["build", "p.flow", "-o", "out.mjs"], { cwd: dir });
    expect(built.code).toBe(0);
    // The clients stay imports of the module (not bundled): found from the repository's node_modules.
    const code = readFileSync(join(dir, "out.mjs"), "utf8");
    expect(code).toContain(`import("kafkajs")`);
    expect(code).not.toContain("KafkaJSNonRetriableError");
    const run = runBuilt(join(dir, "out.mjs"), [], dir);
    await listening(port);
    expect(JSON.parse((await post(port, `{"n":41}`)).body)).toEqual({ accepted: 1, bad: [] });
    await waitFor("the row", () => lines(run.stdout()).length === 1);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(lines(run.stdout())).toEqual([`{"m":42}`]);
  });

  it("format csv and lines: rows and lines of a body, bad ones by line", async () => {
    const dir = testDir("http-formats");
    const [a, b] = [await freePort(), await freePort()];
    writeFileSync(
      join(dir, "p.flow"),
      `source rows: { name: string, n: int, ok: bool? } = http(port: ${a}, format: "csv")
source texts: string = http(port: ${b}, path: "/log", format: "lines")
emit r = rows
emit t = texts | select line = it, size = len(it)
`,
    );
    const run = runLive(["p.flow"], dir);
    await listening(a);
    await listening(b);
    const csv = await post(a, `x,1,true\n"y, z",2,\nw,three,false\n`);
    expect(JSON.parse(csv.body)).toEqual({ accepted: 2, bad: [{ line: 3, error: `field "n": expected int, got "three"` }] });
    expect(JSON.parse((await post(b, "first line\nsecond\n", "/log")).body)).toEqual({ accepted: 2, bad: [] });
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(lines(run.stdout()).sort()).toEqual(
      [`r\t{"name":"x","n":1,"ok":true}`, `r\t{"name":"y, z","n":2,"ok":null}`, `t\t{"line":"first line","size":10}`, `t\t{"line":"second","size":6}`].sort(),
    );
  });

  it("a slow sink slows the source: 503 with Retry-After while the run is behind, then every row is delivered in order", async () => {
    const dir = testDir("http-slow");
    const port = await freePort();
    const sinkPort = await freePort();
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const received: string[] = [];
    const sink: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        void released.then(() => {
          received.push(...lines(body));
          res.writeHead(204).end();
        });
      });
    });
    await new Promise<void>((r) => sink.listen(sinkPort, "127.0.0.1", () => r()));
    try {
      writeFileSync(join(dir, "p.flow"), `source xs: { i: int } = http(port: ${port})\nemit xs -> http("http://127.0.0.1:${sinkPort}/in")\n`);
      const run = runLive(["p.flow"], dir);
      await listening(port);
      const body = (a: number) => JSON.stringify(Array.from({ length: 20_000 }, (_, k) => ({ i: a + k })));
      const answers: Promise<{ status: number; body: string; headers: Headers }>[] = [];
      let busy: { status: number; headers: Headers } | undefined;
      for (let k = 0; k < 10 && busy === undefined; k++) {
        const answer = post(port, body(k * 20_000));
        answers.push(answer);
        // An answer within 300 ms is a refusal (accepted records wait for the stuck sink).
        const quick = await Promise.race([answer, sleep(300).then(() => undefined)]);
        if (quick !== undefined && quick.status === 503) busy = quick;
      }
      expect(busy?.status).toBe(503);
      expect(busy?.headers.get("retry-after")).toBe("1");
      release();
      const done = await Promise.all(answers);
      const accepted = done.filter((a) => a.status === 200).map((a) => JSON.parse(a.body).accepted as number);
      const total = accepted.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThan(0);
      await waitFor("every accepted row at the sink", () => received.length >= total, 60_000);
      run.interrupt();
      expect(await run.exit).toBe(130);
      expect(received).toEqual(received.map((_, k) => received[0] === undefined ? "" : JSON.stringify({ i: JSON.parse(received[0]).i + k })));
      expect(received.length).toBe(total);
    } finally {
      sink.close();
      sink.closeAllConnections();
    }
  });
});

describe.skipIf(!haveServer("postgres"))("postgres sink", () => {
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  /** `sql`'s answer is `expected`; false too while the query fails (the table is not there yet). */
  const answers = (sql: string, expected: string) => () => {
    try {
      return pg.psql(sql).trim() === expected;
    } catch {
      return false;
    }
  };
  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => pg?.stop());

  it("creates the table with the mapped column types and inserts every row exactly", async () => {
    const dir = testDir("pg-roundtrip");
    const port = await freePort();
    writeFileSync(
      join(dir, "p.flow"),
      `type Ev = { id: int, score: float, name: string, ok: bool, at: time, tags: [string], extra: { a: int }?, note: string? }
source evs: Ev = http(port: ${port})
emit evs | extend took = at - at -> postgres("events", url: "${pg.url}")
`,
    );
    const run = runLive(["p.flow"], dir);
    await listening(port);
    const answer = await post(
      port,
      `{"id":1,"score":1.5,"name":"it's","ok":true,"at":"2026-01-01T00:00:01Z","tags":["a","b"],"extra":{"a":7},"note":null}\n` +
        `{"id":2,"score":-3,"name":"x\\"y","ok":false,"at":1767225602000,"tags":[],"extra":null}\n`,
    );
    expect(JSON.parse(answer.body)).toEqual({ accepted: 2, bad: [] });
    await waitFor("two rows", answers(`SELECT count(*) FROM events`, "2"));
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(pg.psql(`SELECT column_name || ' ' || data_type || ' ' || is_nullable FROM information_schema.columns WHERE table_name = 'events' ORDER BY ordinal_position`).trim().split("\n")).toEqual([
      "id bigint NO",
      "score double precision NO",
      "name text NO",
      "ok boolean NO",
      "at timestamp with time zone NO",
      "tags jsonb NO",
      "extra jsonb YES",
      "note text YES",
      "took bigint NO",
    ]);
    expect(pg.psql(`SET TIME ZONE 'UTC'; SELECT id, score, name, ok, at, tags, extra, note, took FROM events ORDER BY id`).trim().split("\n")).toEqual([
      `1|1.5|it's|t|2026-01-01 00:00:01+00|["a", "b"]|{"a": 7}||0`,
      `2|-3|x"y|f|2026-01-01 00:00:02+00|[]|||0`,
    ]);
  });

  it("Postgres killed and restarted mid-run: rows wait and retry, none lost or doubled", async () => {
    const dir = testDir("pg-restart");
    const port = await freePort();
    writeFileSync(join(dir, "p.flow"), `source xs: { i: int } = http(port: ${port})\nemit xs -> postgres("restart_rows", url: "${pg.url}")\n`);
    const run = runLive(["p.flow"], dir);
    await listening(port);
    const rows = (a: number, b: number) => Array.from({ length: b - a }, (_, k) => JSON.stringify({ i: a + k })).join("\n");
    await post(port, rows(0, 100));
    await waitFor("100 rows", answers(`SELECT count(*) FROM restart_rows`, "100"));
    await pg.kill();
    expect(JSON.parse((await post(port, rows(100, 200))).body).accepted).toBe(100);
    await sleep(1000);
    await pg.restart();
    await waitFor("200 rows", answers(`SELECT count(*) FROM restart_rows`, "200"), 30_000);
    run.interrupt();
    expect(await run.exit).toBe(130);
    expect(pg.psql(`SELECT count(DISTINCT i), min(i), max(i), count(*) FROM restart_rows`).trim()).toBe("200|0|199|200");
    expect(run.stderr(), run.stderr()).toMatch(/delivery failed/);
    expect(run.stderr()).toMatch(/delivered again/);
  });
});
