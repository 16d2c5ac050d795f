// `flowc run` and `node OUT.mjs` when things go wrong: the run cache, outputs that would erase
// inputs, signals (LANGUAGE.md §10 Stopping), a closed stdout, full disks, odd names, CSV headers,
// late records. (The CLI's own usage errors, help and --watch: cli-commands.stress.test.ts.) Everything spawns the real
// ./bin/flowc in temporary folders.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureCli, FLOWC, flowc, node, startNode as start, TMP } from "./helpers";

let work: string;
let n = 0;
/** A fresh folder with these files. */
function folder(files: Record<string, string>): string {
  const dir = join(work, `d${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}
const lines = (s: string) => s.split("\n").filter((l) => l !== "");
/** A private run cache, so tests neither read nor fill ~/.cache/flowc. */
const cacheEnv = (dir: string) => ({ XDG_CACHE_HOME: dir });

beforeAll(() => {
  ensureCli();
  mkdirSync(TMP, { recursive: true });
  work = mkdtempSync(join(TMP, "robust-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const EVENTS = 'type E = { k: string, v: int, t: time }\nsource ev: E = file("in.jsonl") event time t\n';
const input26 = Array.from({ length: 26 }, (_, i) => JSON.stringify({ k: "abc"[i % 3], v: i, t: i * 1000 })).join("\n") + "\n";

describe("the run cache", () => {
  const prog = "source n: int = range(0, 3)\nemit n | map it * 10\n";

  it("lives under $XDG_CACHE_HOME/flowc, 0700, with a checksum beside each module", async () => {
    const dir = folder({ "p.flow": prog });
    const cache = join(dir, "cache");
    const r = await flowc(["run", "p.flow", "--quiet"], { cwd: dir, env: cacheEnv(cache) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("0\n10\n20\n");
    expect(statSync(join(cache, "flowc")).mode & 0o777).toBe(0o700);
    const mods = readdirSync(join(cache, "flowc")).filter((f) => f.endsWith(".mjs"));
    expect(mods).toHaveLength(1);
    expect(readFileSync(join(cache, "flowc", mods[0]! + ".sha256"), "utf8")).toMatch(/^[0-9a-f]{64}\n$/);
  });

  it("a tampered cached module is not executed", async () => {
    const dir = folder({ "p.flow": prog });
    const cache = join(dir, "cache");
    expect((await flowc(["run", "p.flow", "--quiet"], { cwd: dir, env: cacheEnv(cache) })).code).toBe(0);
    const mod = readdirSync(join(cache, "flowc")).find((f) => f.endsWith(".mjs"))!;
    const marker = join(dir, "pwned");
    writeFileSync(join(cache, "flowc", mod), `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(marker)}, "x"); export const program = {};\n`);
    const r = await flowc(["run", "p.flow", "--quiet"], { cwd: dir, env: cacheEnv(cache) });
    expect(existsSync(marker), "the tampered module ran").toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("0\n10\n20\n");
    expect(r.stderr).toContain("does not match its checksum");
  });

  it("a group-writable cache folder is refused with a warning, and the run still works", async () => {
    const dir = folder({ "p.flow": prog });
    const cache = join(dir, "cache");
    mkdirSync(join(cache, "flowc"), { recursive: true });
    chmodSync(join(cache, "flowc"), 0o777);
    const marker = join(dir, "pwned");
    // Whatever someone else put there is never imported.
    writeFileSync(join(cache, "flowc", "planted.mjs"), `import { writeFileSync } from "node:fs"; writeFileSync(${JSON.stringify(marker)}, "x");\n`);
    const r = await flowc(["run", "p.flow", "--quiet"], { cwd: dir, env: cacheEnv(cache) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("0\n10\n20\n");
    expect(lines(r.stderr)).toEqual([expect.stringMatching(/^flowc: warning: not using the run cache .*: it is writable by group or others/)]);
    expect(readdirSync(join(cache, "flowc"))).toEqual(["planted.mjs"]);
    expect(existsSync(marker)).toBe(false);
  });

  it.runIf(process.getuid?.() === 0)("a cache folder owned by someone else is refused", async () => {
    const dir = folder({ "p.flow": prog });
    const cache = join(dir, "cache");
    mkdirSync(join(cache, "flowc"), { recursive: true, mode: 0o700 });
    chownSync(join(cache, "flowc"), 4242, 4242);
    const r = await flowc(["run", "p.flow", "--quiet"], { cwd: dir, env: cacheEnv(cache) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("0\n10\n20\n");
    expect(r.stderr).toMatch(/^flowc: warning: not using the run cache .*: it is owned by someone else\n$/);
  });

  it("evicts the least recently used modules beyond 200 files or 64 MiB", async () => {
    const fill = (c: string, count: number) => {
      mkdirSync(c, { recursive: true, mode: 0o700 });
      for (let i = 0; i < count; i++) {
        const f = join(c, `old${String(i).padStart(3, "0")}.mjs`);
        writeFileSync(f, "export {};\n");
        writeFileSync(f + ".sha256", "0\n");
        utimesSync(f, 1_000_000 + i, 1_000_000 + i);
      }
    };
    const mjs = (c: string) => readdirSync(c).filter((f) => f.endsWith(".mjs"));
    // By count: 205 old modules and the new one → the 6 least recently used go.
    const dir = folder({ "p.flow": prog });
    const c = join(dir, "cache", "flowc");
    fill(c, 205);
    const r = await flowc(["run", "p.flow", "--quiet"], { cwd: dir, env: cacheEnv(join(dir, "cache")) });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("0\n10\n20\n");
    const after = mjs(c);
    expect(after).toHaveLength(200);
    for (let i = 0; i < 6; i++) expect(after).not.toContain(`old00${i}.mjs`);
    expect(existsSync(join(c, "old000.mjs.sha256"))).toBe(false);
    expect(after).toContain("old006.mjs");
    expect(after.filter((f) => !f.startsWith("old"))).toHaveLength(1); // the new one
    // By size: a 70 MiB module (sparse) used less recently than the others goes.
    const dir2 = folder({ "p.flow": prog });
    const c2 = join(dir2, "cache", "flowc");
    fill(c2, 10);
    const big = join(c2, "big.mjs");
    writeFileSync(big, "");
    truncateSync(big, 70 << 20);
    utimesSync(big, 1_000_005.5, 1_000_005.5);
    const r2 = await flowc(["run", "p.flow", "--quiet"], { cwd: dir2, env: cacheEnv(join(dir2, "cache")) });
    expect(r2.code, r2.stderr).toBe(0);
    const after2 = mjs(c2);
    expect(after2).not.toContain("big.mjs");
    expect(after2).toHaveLength(5); // old006..old009 and the new one: the older ones went before big
  });
});

describe("outputs never erase inputs", () => {
  const program = EVENTS + "emit ev | select k, v\n";

  it("--dead-letter, --late or --out naming an input, the program, or another output: exit 2, nothing touched", async () => {
    const dir = folder({ "p.flow": program, "in.jsonl": input26 });
    mkdirSync(join(dir, "sub"));
    symlinkSync(join(dir, "in.jsonl"), join(dir, "link.jsonl"));
    const cases: [string[], RegExp][] = [
      [["--dead-letter", "in.jsonl"], /--dead-letter in\.jsonl names the input of source ev/],
      [["--late", "link.jsonl"], /--late link\.jsonl names the input of source ev/],
      [["--out", "out1=sub/../in.jsonl"], /names the input of source ev/],
      [["--out", `out1=${join(dir, "in.jsonl")}`], /names the input of source ev/],
      [["--out", "out1=p.flow"], /names the program/],
      [["--dead-letter", "x.jsonl", "--late", "./x.jsonl"], /--dead-letter x\.jsonl and --late \.\/x\.jsonl name the same file/],
      [["--out", "out1=y.jsonl", "--dead-letter", "sub/../y.jsonl"], /name the same file/],
    ];
    for (const [args, message] of cases) {
      const r = await flowc(["run", "p.flow", ...args], { cwd: dir });
      expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^flowc: [^\n]+\n$/);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe("");
      expect(readFileSync(join(dir, "in.jsonl"), "utf8")).toBe(input26);
      expect(readFileSync(join(dir, "p.flow"), "utf8")).toBe(program);
      expect(existsSync(join(dir, "x.jsonl")) || existsSync(join(dir, "y.jsonl"))).toBe(false);
    }
    // The same in a built module (paths relative to the working directory).
    const built = await flowc(["build", "p.flow", "-o", "p.mjs"], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    const r = await node(["p.mjs", "--dead-letter", "in.jsonl"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^flowc: --dead-letter in\.jsonl names the input of source ev[^\n]*\n$/);
    expect(readFileSync(join(dir, "in.jsonl"), "utf8")).toBe(input26);
    // /dev/null twice is fine.
    const ok = await flowc(["run", "p.flow", "--dead-letter", "/dev/null", "--late", "/dev/null", "--quiet"], { cwd: dir });
    expect(ok.code, ok.stderr).toBe(0);
    expect(lines(ok.stdout)).toHaveLength(26);
  });
});

/** Spawns `node ARGS` with stdin a pipe; collects stdout and stderr. */

describe("stopping on SIGINT and SIGTERM (§10)", () => {
  const live = `type E = { k: string, v: int, t: time }
source ev: E = stdin() event time t
emit rows = ev | select k, v
emit final totals = ev | group by k | agg n = count(), s = sum(v)
emit per = ev | window tumbling(10s) | group by k | agg n = count()
`;
  const records = '{"k":"a","v":1,"t":1}\n{"k":"b","v":2,"t":2}\n{"k":"a","v":3,"t":3}\n';

  for (const [sig, code] of [["SIGTERM", 143], ["SIGINT", 130]] as const) {
    it(`${sig} with stdin still open: windows fire, emit final and file outputs are written, exit ${code}`, async () => {
      const dir = folder({ "live.flow": live });
      const p = start([FLOWC, "run", "live.flow", "--out", "totals=totals.jsonl"], dir);
      p.child.stdin.write(records); // and never closed
      await p.until(() => p.out.stdout.includes('"v":3'));
      p.child.kill(sig);
      const { code: exitCode } = await p.exit;
      expect(exitCode, p.out.stderr).toBe(code);
      expect(lines(p.out.stdout)).toEqual([
        'rows\t{"k":"a","v":1}',
        'rows\t{"k":"b","v":2}',
        'rows\t{"k":"a","v":3}',
        'per\t{"window_start":"1970-01-01T00:00:00.000Z","window_end":"1970-01-01T00:00:10.000Z","k":"a","n":2}',
        'per\t{"window_start":"1970-01-01T00:00:00.000Z","window_end":"1970-01-01T00:00:10.000Z","k":"b","n":1}',
      ]);
      expect(readFileSync(join(dir, "totals.jsonl"), "utf8")).toBe('{"k":"a","n":2,"s":4}\n{"k":"b","n":1,"s":2}\n');
      expect(p.out.stderr).toMatch(/^flowc: interrupted, 3 in \(ev 3\), 7 out/m);
    });
  }

  it("SIGTERM to a built module (node OUT.mjs) reading a pipe as its file source", async () => {
    const dir = folder({ "live.flow": live.replace("stdin()", 'file("fifo.jsonl")') });
    const built = await flowc(["build", "live.flow", "-o", "live.mjs"], { cwd: dir });
    expect(built.code, built.stderr).toBe(0);
    expect(spawnSync("mkfifo", [join(dir, "fifo.jsonl")]).status).toBe(0);
    const p = start(["live.mjs", "--out", "totals=totals.jsonl"], dir);
    const writer = spawn("sh", ["-c", `cat > fifo.jsonl; sleep 60`], { cwd: dir, stdio: ["pipe", "ignore", "ignore"] });
    writer.stdin.write(records); // the pipe stays open
    try {
      await p.until(() => p.out.stdout.includes('"v":3'));
      p.child.kill("SIGTERM");
      const { code } = await p.exit;
      expect(code, p.out.stderr).toBe(143);
      expect(lines(p.out.stdout)).toHaveLength(5);
      expect(readFileSync(join(dir, "totals.jsonl"), "utf8")).toBe('{"k":"a","n":2,"s":4}\n{"k":"b","n":1,"s":2}\n');
      expect(p.out.stderr).toContain("flowc: interrupted, 3 in");
    } finally {
      writer.kill("SIGKILL");
      p.child.kill("SIGKILL");
    }
  });
});

describe("a closed stdout", () => {
  it("keeps file outputs complete when stdout's reader goes away (| head -1), exit 0", async () => {
    const dir = folder({ "two.flow": "source n: int = range(0, 150000)\nemit a = n\nemit b = n | map it * 2\n" });
    const p = start([FLOWC, "run", "two.flow", "--out", "b=b.jsonl"], dir);
    await p.until(() => p.out.stdout.includes("\n"));
    p.child.stdout.destroy(); // like `head -1` exiting
    const { code } = await p.exit;
    expect(code, p.out.stderr).toBe(0);
    const b = readFileSync(join(dir, "b.jsonl"), "utf8");
    expect(lines(b)).toHaveLength(150_000);
    expect(b.endsWith("299998\n")).toBe(true);
    expect(p.out.stderr).not.toMatch(/EPIPE|Error/);
  });
});

describe("outputs that cannot be written: exit 73, one line naming the output and the path", () => {
  it.runIf(existsSync("/dev/full"))("disk full (ENOSPC) on --out and --dead-letter", async () => {
    const dir = folder({ "p.flow": EVENTS + "emit ev | select k, v\n", "in.jsonl": input26 + '{"k":"z","v":"bad","t":1}\n' });
    const out = await flowc(["run", "p.flow", "--out", "out1=/dev/full"], { cwd: dir });
    expect(out.code, out.stderr).toBe(73);
    expect(lines(out.stderr).filter((l) => l.startsWith("flowc: cannot"))).toEqual(["flowc: cannot write output out1 to /dev/full: no space left on device (ENOSPC)"]);
    expect(out.stderr).not.toContain("internal error");
    const dl = await flowc(["run", "p.flow", "--dead-letter", "/dev/full", "--quiet"], { cwd: dir });
    expect(dl.code, dl.stderr).toBe(73);
    expect(dl.stderr).toContain("flowc: cannot write the dead-letter file to /dev/full: no space left on device (ENOSPC)\n");
  });

  it("a folder (EISDIR) or a path through a file", async () => {
    const dir = folder({ "p.flow": EVENTS + "emit ev | select k, v\n", "in.jsonl": input26 });
    mkdirSync(join(dir, "adir"));
    const isDir = await flowc(["run", "p.flow", "--out", "out1=adir"], { cwd: dir });
    expect(isDir.code).toBe(73);
    expect(isDir.stderr).toBe("flowc: cannot write output out1 to adir: is a directory (EISDIR)\n");
    const through = await flowc(["run", "p.flow", "--late", "in.jsonl/late.jsonl"], { cwd: dir });
    expect(through.code).toBe(73);
    expect(through.stderr).toMatch(/^flowc: cannot write the late-record file to in\.jsonl\/late\.jsonl: [^\n]+\n$/);
  });
});

describe("CSV headers", () => {
  const csv = "k,t\n" + Array.from({ length: 100 }, (_, i) => `a,${i}`).join("\n") + "\n";

  it("a header without a declared non-optional column: one message naming the file and the columns, exit 65", async () => {
    const dir = folder({
      "p.flow": 'type E = { k: string, v: int, w: float, t: time, note: string? }\nsource ev: E = file("h.csv", "csv") event time t\nemit ev\n',
      "h.csv": csv,
    });
    for (const extra of [[], ["--late", "late.jsonl"]]) {
      // (--late turns off the generated decoder: the general CSV reader is checked as well)
      const r = await flowc(["run", "p.flow", ...extra], { cwd: dir });
      expect(r.code, r.stderr).toBe(65);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe('flowc: h.csv: the CSV header lacks columns "v", "w" (needed by ev; header: k,t)\n');
    }
  });

  it("a missing optional column is null", async () => {
    const dir = folder({ "p.flow": 'type E = { k: string, t: time, note: string? }\nsource ev: E = file("h.csv", "csv") event time t\nemit ev | select k, note\n', "h.csv": csv });
    const r = await flowc(["run", "p.flow", "--quiet"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout)).toHaveLength(100);
    expect(lines(r.stdout)[0]).toBe('{"k":"a","note":null}');
  });
});

describe("late records", () => {
  const program = 'type Bid = { k: string, t: time }\nsource bids: Bid = file("bids.jsonl") event time t watermark 1s\nemit bids | window tumbling(10s) | group by k | agg n = count()\n';
  const rec = (t: number) => JSON.stringify({ k: "a", t });

  it("more than a tenth late: the summary says so and suggests a larger watermark", async () => {
    const dir = folder({ "p.flow": program, "bids.jsonl": [1000, 30000, 2000, 3000, 40000, 4000].map(rec).join("\n") + "\n" });
    const r = await flowc(["run", "p.flow"], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/, 3 late, /);
    expect(r.stderr).toContain("flowc: warning: 50% of records were late (dropped); consider a larger watermark on source bids\n");
  });

  it("a tenth or fewer: no warning", async () => {
    const dir = folder({ "p.flow": program, "bids.jsonl": [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 30000, 9000].map(rec).join("\n") + "\n" });
    const r = await flowc(["run", "p.flow"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/, 1 late, /);
    expect(r.stderr).not.toContain("warning");
  });
});
