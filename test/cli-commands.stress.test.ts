// The command line's own behaviour (cli-robust.test.ts's and cli.test.ts's slow parts, moved to
// the stress set to keep `npm test` under its time budget): each command's --help, one-line
// usage errors with hints, a built module's usage text never printed by `flowc run`, a busy
// playground port, check/run --watch, graph labels, built modules printing what `flowc run`
// prints, and names that are Object.prototype properties as source and output names.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import { ensureCli, expectBuiltModuleLikeRun, FIXTURES, FLOWC, flowc, node, startNode as start, TMP } from "./helpers";
import { checkPrototypeNameSource } from "./prototype-name-cases";

let work: string;
let n = 0;
/** A fresh folder with these files. */
function folder(files: Record<string, string>): string {
  const dir = join(work, `d${n++}`);
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

beforeAll(() => {
  ensureCli();
  mkdirSync(TMP, { recursive: true });
  work = mkdtempSync(join(TMP, "cli-commands-"));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const lines = (s: string) => s.split("\n").filter((l) => l !== "");

/** A private copy of a fixture folder (so written files never land in test/fixtures). */
function copyFixture(name: string): string {
  const dir = join(work, `${name}-${Math.random().toString(36).slice(2, 8)}`);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  for (const f of ["generated.ts", "graph.txt", "output.jsonl", "diagnostics.txt"]) rmSync(join(dir, f), { force: true });
  return dir;
}

describe("build", () => {
  for (const name of ["v_union", "v_lookup_csv", "v_import_ts"]) {
    it.concurrent(`node OUT.mjs prints what flowc run prints: ${name}`, async ({ expect }) => {
      await expectBuiltModuleLikeRun(copyFixture(name), name, expect);
    });
  }
});

describe("names that are Object.prototype properties", () => {
  const names = Object.getOwnPropertyNames(Object.prototype); // constructor, __proto__, toString, ...

  it("work as source names and output names (and --out NAME=...)", async () => {
    const half = Math.ceil(names.length / 2);
    for (const [srcs, outs] of [[names.slice(0, half), names.slice(half)], [names.slice(half), names.slice(0, half)]] as const) {
      const program = srcs.map((s, i) => `source ${s}: int = range(${i * 10}, ${i * 10 + 2})`).join("\n") + "\n" + outs.map((o, i) => `emit ${o} = ${srcs[i % srcs.length]} | map it + 1`).join("\n") + "\n";
      const dir = folder({ "p.flow": program });
      const r = await flowc(["run", "p.flow"], { cwd: dir });
      expect(r.code, `${program}\n${r.stderr}`).toBe(0);
      for (const [i, o] of outs.entries()) {
        const base = (i % srcs.length) * 10;
        expect(lines(r.stdout).filter((l) => l.startsWith(`${o}\t`))).toEqual([`${o}\t${base + 1}`, `${o}\t${base + 2}`]);
      }
      const args = outs.flatMap((o, i) => ["--out", `${o}=f${i}.jsonl`]);
      const f = await flowc(["run", "p.flow", ...args, "--quiet"], { cwd: dir });
      expect(f.code, f.stderr).toBe(0);
      expect(f.stdout).toBe("");
      for (const [i] of outs.entries()) {
        const base = (i % srcs.length) * 10;
        expect(readFileSync(join(dir, `f${i}.jsonl`), "utf8")).toBe(`${base + 1}\n${base + 2}\n`);
      }
    }
    // One source alone (its own fast path), and an unknown --out name that is a prototype name:
    // here for two names, for the others in cli-robust.stress.test.ts.
    for (const name of ["__proto__", "constructor"]) await checkPrototypeNameSource(name, folder({}), expect);
  }, 120_000);
});



describe("the command line", () => {
  const ok = 'source n: int = range(0, 2)\nemit n\n';

  it("COMMAND --help and help COMMAND print that command's own flags", async () => {
    for (const args of [["run", "--help"], ["help", "run"], ["run", "x.flow", "-h"]]) {
      const r = await flowc(args);
      expect(r.code, args.join(" ")).toBe(0);
      expect(r.stdout).toMatch(/^Usage: flowc run PROGRAM\.flow/);
      for (const f of ["--out NAME=PATH", "--dead-letter FILE", "--late FILE", "--strict", "--quiet", "--watch"]) expect(r.stdout).toContain(f);
      expect(r.stdout).not.toContain("flowc build");
    }
    const check = await flowc(["check", "--help"]);
    expect(check.stdout).toMatch(/^Usage: flowc check PROGRAM\.flow/);
    expect(check.stdout).toContain("--format");
    expect(check.stdout).not.toContain("--dead-letter");
    for (const cmd of ["build", "graph", "playground"]) {
      const r = await flowc(["help", cmd]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^Usage: flowc ${cmd}`));
    }
  });

  it("usage errors are one line with a hint: did-you-mean, extra arguments, a folder as the program", async () => {
    const dir = folder({ "p.flow": ok });
    const cases: [string[], string][] = [
      [["run", "p.flow", "--dead-leter", "x"], "flowc: unknown option --dead-leter for flowc run (did you mean --dead-letter?) (see flowc run --help)\n"],
      [["check", "p.flow", "--fromat", "json"], "flowc: unknown option --fromat for flowc check (did you mean --format?) (see flowc check --help)\n"],
      [["check", "p.flow", "--out", "a=b"], "flowc: unknown option --out for flowc check (--out is a flag of flowc run) (see flowc check --help)\n"],
      [["rnu", "p.flow"], "flowc: unknown command rnu (did you mean run?) (see flowc --help)\n"],
      [["run", "p.flow", "extra.flow"], 'flowc: unexpected argument "extra.flow": flowc run takes one program (see flowc run --help)\n'],
      [["run", "."], "flowc: . is a directory; give a .flow file (see flowc run --help)\n"],
      [["check", dir], `flowc: ${dir} is a directory; give a .flow file (see flowc check --help)\n`],
      [["run", "p.flow", "--out", "nonsense"], 'flowc: --out expects NAME=PATH, got "nonsense" (see flowc run --help)\n'],
      [["run", "p.flow", "--strict=yes"], "flowc: --strict takes no value (see flowc run --help)\n"],
    ];
    for (const [args, message] of cases) {
      const r = await flowc(args, { cwd: dir });
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.stderr, args.join(" ")).toBe(message);
      expect(r.stdout).toBe("");
    }
  });

  it("flowc run never prints the built module's usage text", async () => {
    const dir = folder({ "p.flow": ok });
    const r = await flowc(["run", "p.flow", "--out", "nope=x.jsonl"], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('flowc: --out: the program has no output named "nope" (outputs: out1)\n');
    // A built module's own parser: one line pointing at its --help.
    expect((await flowc(["build", "p.flow", "-o", "p.mjs"], { cwd: dir })).code).toBe(0);
    const m = await node(["p.mjs", "--dead-leter", "x"], { cwd: dir });
    expect(m.code).toBe(2);
    expect(m.stderr).toBe('flowc: unknown argument "--dead-leter" (did you mean --dead-letter?) (see node p.mjs --help)\n');
  });

  it("playground on a busy port says so in one line (exit 2)", async () => {
    const server = createServer();
    await new Promise<void>((res) => server.listen(0, "127.0.0.1", () => res()));
    const port = (server.address() as { port: number }).port;
    try {
      const r = await flowc(["playground", "--port", String(port)], { timeoutMs: 30_000 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toBe(`flowc: port ${port} is in use; try --port N (0 picks a free one)\n`);
    } finally {
      server.close();
    }
  });

  it("check --watch checks again when the file changes", async () => {
    const dir = folder({ "w.flow": ok });
    const p = start([FLOWC, "check", "--watch", "w.flow"], dir);
    try {
      await p.until(() => p.out.stderr.includes("flowc: watching w.flow for changes"));
      writeFileSync(join(dir, "w.flow"), "source n: int = range(0, 2)\nemit n | select nope\n");
      await p.until(() => p.out.stderr.includes("1 error in w.flow"));
      expect(p.out.stderr).toContain("flowc: change detected, rerunning\n");
      expect(p.out.stderr).toMatch(/error\[E\d+\]/);
      writeFileSync(join(dir, "w.flow"), ok);
      await p.until(() => p.out.stderr.split("flowc: change detected, rerunning").length === 3 && p.out.stderr.trimEnd().endsWith("(Ctrl-C to stop)"));
      p.child.kill("SIGINT");
      expect((await p.exit).code).toBe(130);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  it("run --watch stops the running program and runs it again", async () => {
    const live = 'source lines: string = stdin("lines")\nemit lines | map upper(it)\n';
    const dir = folder({ "w.flow": live });
    const p = start([FLOWC, "run", "--watch", "w.flow"], dir);
    try {
      p.child.stdin.write("hello\n"); // stdin stays open: the first run never ends by itself
      await p.until(() => p.out.stdout.includes("HELLO"));
      writeFileSync(join(dir, "w.flow"), "source n: int = range(0, 2)\nemit n | map it * 7\n");
      await p.until(() => p.out.stdout.includes("7\n"));
      expect(p.out.stdout).toBe('"HELLO"\n0\n7\n');
      expect(p.out.stderr).toMatch(/flowc: interrupted, 1 in \(lines 1\)[^\n]*\nflowc: change detected, rerunning\n/);
      p.child.kill("SIGTERM");
      expect((await p.exit).code).toBe(143);
    } finally {
      p.child.kill("SIGKILL");
    }
  });

  it("graph labels do not repeat the node's kind", async () => {
    const dir = folder({ "p.flow": 'type O = { id: int, t: time }\nsource orders: O = file("o.jsonl") event time t\nemit orders | where id > 1\n' });
    const dot = await flowc(["graph", "p.flow", "--format", "dot"], { cwd: dir });
    expect(dot.code).toBe(0);
    expect(dot.stdout).toContain('label="source\\norders');
    expect(dot.stdout).not.toMatch(/source\\nsource|output\\noutput/);
    const mermaid = await flowc(["graph", "p.flow", "--format", "mermaid"], { cwd: dir });
    expect(mermaid.stdout).toContain('"source: orders');
    expect(mermaid.stdout).not.toMatch(/source: source|output: output/);
    const svg = await flowc(["graph", "p.flow"], { cwd: dir });
    expect(svg.stdout).toMatch(/<text [^>]*>orders</);
    expect(svg.stdout).not.toMatch(/<text [^>]*>source orders/);
  });
});

describe("exit codes (cli.test.ts's slow part)", () => {
  it("0 for a valid program, 1 for compile errors (check, run, build, graph)", async () => {
    const ok = join(FIXTURES, "v_where_select", "input.flow");
    const bad = join(FIXTURES, "e_several_independent", "input.flow");
    expect((await flowc(["check", ok])).code).toBe(0);
    for (const args of [["check", bad], ["run", bad], ["build", bad, "-o", join(work, "never.mjs")], ["graph", bad]]) {
      const r = await flowc(args);
      expect(r.code, args.join(" ")).toBe(1);
      expect(r.stdout, "nothing on stdout for a rejected program").toBe("");
      expect(r.stderr).toContain("error[E0201]: unknown field `chanel` on Bid");
      expect(r.stderr).toContain("flowc: 4 errors in");
    }
    expect(existsSync(join(work, "never.mjs"))).toBe(false);
  });

  it("2 for usage errors", async () => {
    const ok = join(FIXTURES, "v_where_select", "input.flow");
    const cases: string[][] = [
      [],
      ["frobnicate", ok],
      ["check"],
      ["check", join(work, "does-not-exist.flow")],
      ["check", ok, "--bogus"],
      ["check", ok, "--format", "xml"],
      ["graph", ok, "--format", "png"],
      ["build", ok],
      ["run", ok, "--out"],
    ];
    for (const args of cases) {
      const r = await flowc(args);
      expect(r.code, `flowc ${args.join(" ")}\n${r.stderr}`).toBe(2);
      // One line, no usage dump, no stack trace.
      expect(r.stderr).toMatch(/^flowc: [^\n]+\n$/);
      expect(r.stderr).not.toContain("Usage:");
      expect(r.stdout).toBe("");
    }
  });

});

describe("graph (cli.test.ts's slow part)", () => {
  const file = join(FIXTURES, "v_union", "input.flow");
  const optimized = () => compile(readFileSync(file, "utf8"), { file: "input.flow" }).optimized!;

  it("--format dot, mermaid and svg (the default)", async () => {
    const nodes = optimized().nodes.size;
    const dot = await flowc(["graph", file, "--format", "dot"]);
    expect(dot.code).toBe(0);
    expect(dot.stdout).toMatch(/^digraph flow \{\n/);
    expect(dot.stdout.trimEnd().endsWith("}")).toBe(true);
    expect((dot.stdout.match(/^ {2}n\d+ \[label=/gm) ?? []).length).toBe(nodes);
    expect(dot.stdout).toMatch(/^ {2}n\d+ -> n\d+;$/m);

    const mermaid = await flowc(["graph", file, "--format", "mermaid"]);
    expect(mermaid.code).toBe(0);
    expect(mermaid.stdout).toMatch(/^flowchart TD\n/);
    expect(mermaid.stdout).toMatch(/^ {2}n\d+ --> n\d+$/m);

    for (const args of [["graph", file, "--format", "svg"], ["graph", file]]) {
      const svg = await flowc(args);
      expect(svg.code).toBe(0);
      expect(svg.stdout).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
      expect(svg.stdout.trimEnd().endsWith("</svg>")).toBe(true);
      expect(svg.stdout).not.toMatch(/undefined|NaN/);
    }
  });

});
