import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Program } from "./contract.js";
import { runProgram, UsageError } from "./driver.js";
import { createNodeEnv, loadNodeModules, parseArgs } from "./node.js";

beforeAll(async () => {
  await loadNodeModules();
});

describe("parseArgs", () => {
  it("reads the documented flags", () => {
    expect(parseArgs(["--out", "big=b.jsonl", "--out=small=s.csv", "--dead-letter", "d.jsonl", "--late=l.jsonl", "--strict", "--quiet"])).toEqual({
      outOverrides: { big: "b.jsonl", small: "s.csv" },
      deadLetter: "d.jsonl",
      lateFile: "l.jsonl",
      strict: true,
      summary: false,
      progress: false,
    });
    expect(parseArgs([])).toEqual({});
    expect(parseArgs(["--base-dir", "x"])).toEqual({ baseDir: "x" });
  });

  it("rejects bad usage", () => {
    expect(() => parseArgs(["--out"])).toThrow(UsageError);
    expect(() => parseArgs(["--out", "noequals"])).toThrow(/NAME=PATH/);
    expect(() => parseArgs(["--out", "=x"])).toThrow(/NAME=PATH/);
    expect(() => parseArgs(["--frobnicate"])).toThrow(/unknown argument "--frobnicate"/);
    expect(() => parseArgs(["--strict=yes"])).toThrow(/takes no value/);
  });
});

const Ev = {
  kind: "record",
  fields: [
    { name: "id", type: { kind: "string" } },
    { name: "t", type: { kind: "time" } },
  ],
} as const;

describe("createNodeEnv", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "flowc-node-env-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads and writes real files, resolving paths against baseDir", async () => {
    const lines = Array.from({ length: 30_000 }, (_, i) => JSON.stringify({ id: "x".repeat(i % 50), t: i })).join("\n") + "\n{bad\n";
    writeFileSync(join(dir, "in.jsonl"), lines);
    const program: Program = {
      file: "p.flow",
      sources: [{ name: "ev", schema: Ev as any, connector: { kind: "file", path: "in.jsonl", format: "jsonl" }, eventTime: { field: "t", delayMs: 0 } }],
      tables: [],
      outputs: [{ name: "o", schema: Ev as any, final: false, connector: { kind: "file", path: "sub/out.jsonl", format: "jsonl" } }],
      create: (ctx) => ({ push: [(r) => ctx.emit[0]!(r)], advance() {}, finish() {} }),
    };
    const messages: string[] = [];
    const env = { ...createNodeEnv(), stderr: (t: string) => void messages.push(t) };
    const s = await runProgram(program, { env, baseDir: dir, summary: false, deadLetter: "dead.jsonl" });
    expect(messages.join("")).toMatch(/^in\.jsonl:30001: invalid JSON/);
    expect(s.totalIn).toBe(30_000);
    expect(s.bad).toBe(1);
    const out = readFileSync(join(dir, "sub/out.jsonl"), "utf8").split("\n");
    expect(out).toHaveLength(30_001);
    expect(out[29_999]).toBe(JSON.stringify({ id: "x".repeat(29_999 % 50), t: new Date(29_999).toISOString() }));
    expect(JSON.parse(readFileSync(join(dir, "dead.jsonl"), "utf8"))).toMatchObject({ source: "ev", file: "in.jsonl", line: 30_001, raw: "{bad" });
  });

  it("is runProgram's default environment once node.ts is loaded", async () => {
    writeFileSync(join(dir, "two.jsonl"), '{"id":"a","t":1}\n{"id":"b","t":2}\n');
    const rows: unknown[] = [];
    const program: Program = {
      file: join(dir, "p.flow"),
      sources: [{ name: "ev", schema: Ev as any, connector: { kind: "file", path: "two.jsonl", format: "jsonl" } }],
      tables: [],
      outputs: [{ name: "o", schema: Ev as any, final: false }],
      create: (ctx) => ({ push: [(r) => ctx.emit[0]!(r)], advance() {}, finish() {} }),
    };
    const s = await runProgram(program, { baseDir: dir, summary: false, onRow: { o: (r) => rows.push(r) } });
    expect(s.totalIn).toBe(2);
    expect(rows).toEqual([{ id: "a", t: 1 }, { id: "b", t: 2 }]);
  });
});

describe("runMain in a built module (node OUT.mjs)", () => {
  let dir: string;
  const runtimeNode = fileURLToPath(new URL("./node.ts", import.meta.url));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "flowc-runmain-"));
    // A hand-written stand-in for a compiled program: `emit ev` (a record with id "boom" crashes).
    const entry = `
      import { runMain } from ${JSON.stringify(runtimeNode)};
      const Ev = ${JSON.stringify(Ev)};
      const program = {
        file: "prog.flow",
        sources: [{ name: "ev", schema: Ev, connector: { kind: "file", path: "in.jsonl", format: "jsonl" }, eventTime: { field: "t", delayMs: 0 } }],
        tables: [],
        outputs: [{ name: "out1", schema: Ev, final: false }],
        create(ctx) {
          return {
            push: [(r) => { if (r.id === "boom") throw new Error("kaboom"); ctx.emit[0](r); }],
            advance() {},
            finish() {},
          };
        },
      };
      await runMain(program);
    `;
    writeFileSync(join(dir, "entry.ts"), entry);
    await build({ entryPoints: [join(dir, "entry.ts")], bundle: true, platform: "node", format: "esm", outfile: join(dir, "prog.mjs"), logLevel: "silent" });
  }, 60_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const runIn = (input: string, args: string[] = []) => {
    writeFileSync(join(dir, "in.jsonl"), input);
    return spawnSync(process.execPath, [join(dir, "prog.mjs"), ...args], { cwd: dir, encoding: "utf8" });
  };
  const good = '{"id":"a","t":0}\n{"id":"b","t":"2026-01-01T00:00:00Z"}\n';

  it("runs, prints JSONL on stdout and the summary on stderr (exit 0)", () => {
    const r = runIn(good);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('{"id":"a","t":"1970-01-01T00:00:00.000Z"}\n{"id":"b","t":"2026-01-01T00:00:00.000Z"}\n');
    expect(r.stderr).toMatch(/^flowc: 2 in \(ev 2\), 2 out, 0 late, 0 bad, \d+ ms, .* events\/s\n$/);
    expect(runIn(good, ["--quiet"]).stderr).toBe("");
  });

  it("reports bad records, writes dead letters, and exits 65 under --strict", () => {
    const input = '{"id":"a","t":0}\n{"id":"b","t":"soon"}\n{"id":"c","t":1}\n';
    const r = runIn(input, ["--dead-letter", "dl.jsonl", "--quiet"]);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('in.jsonl:2: field "t": expected time, got "soon"\n');
    expect(r.stdout.trimEnd().split("\n")).toHaveLength(2);
    expect(JSON.parse(readFileSync(join(dir, "dl.jsonl"), "utf8"))).toEqual({
      source: "ev",
      file: "in.jsonl",
      line: 2,
      error: 'field "t": expected time, got "soon"',
      raw: '{"id":"b","t":"soon"}',
    });
    const strict = runIn(input, ["--strict"]);
    expect(strict.status).toBe(65);
    expect(strict.stdout).toBe('{"id":"a","t":"1970-01-01T00:00:00.000Z"}\n');
    expect(strict.stderr).toContain('in.jsonl:2: field "t": expected time, got "soon"');
  });

  it("writes --out files (CSV by extension)", () => {
    const r = runIn(good, ["--out", "out1=res.csv"]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(readFileSync(join(dir, "res.csv"), "utf8")).toBe("id,t\na,1970-01-01T00:00:00.000Z\nb,2026-01-01T00:00:00.000Z\n");
  });

  it("exits 70 on an internal error, 2 on usage errors, 66 on a missing input", () => {
    const boom = runIn('{"id":"boom","t":0}\n');
    expect(boom.status).toBe(70);
    expect(boom.stderr).toContain("internal error: kaboom");
    const usage = runIn(good, ["--nope"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('unknown argument "--nope"');
    const badOut = runIn(good, ["--out", "zzz=x.jsonl"]);
    expect(badOut.status).toBe(2);
    expect(badOut.stderr).toContain('no output named "zzz"');
    rmSync(join(dir, "in.jsonl"));
    const missing = spawnSync(process.execPath, [join(dir, "prog.mjs")], { cwd: dir, encoding: "utf8" });
    expect(missing.status).toBe(66);
    expect(missing.stderr).toContain("cannot read in.jsonl");
  });

  it("stops quietly when stdout's reader goes away", () => {
    const big = Array.from({ length: 200_000 }, (_, i) => `{"id":"${i}","t":${i}}`).join("\n");
    writeFileSync(join(dir, "in.jsonl"), big);
    const r = spawnSync("sh", ["-c", `"${process.execPath}" prog.mjs --quiet | head -n 2; echo "status \${PIPESTATUS:-done}"`], { cwd: dir, encoding: "utf8" });
    expect(r.stdout.split("\n").slice(0, 2)).toEqual(['{"id":"0","t":"1970-01-01T00:00:00.000Z"}', '{"id":"1","t":"1970-01-01T00:00:00.001Z"}']);
    expect(r.stderr).not.toMatch(/Error|EPIPE/);
  });
});
