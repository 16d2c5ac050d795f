// Checkpoints (LANGUAGE.md §12), the fast set: the programs of checkpoint-cases.ts run in this
// process over an in-memory Env, restored from each checkpoint a complete run wrote (as a crash
// right after it would leave things: output files longer than saved) and from a stop (the
// signal path: no window fires), must write exactly the output of one run. Then the CLI: a
// changed program refused by file:line, a damaged checkpoint refused, --checkpoint-reset, a
// finished checkpoint, SIGINT with --checkpoint, `flowc checkpoint inspect`. The kill -9 version
// with real processes is checkpoint-kill.stress.test.ts.

import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { compile } from "../compiler/src/pipeline";
import type { Program } from "../runtime/src/contract";
import { CHECKPOINT_PROGRAMS, writeCheckpointData } from "./checkpoint-cases";
import { FLOWC, flowc, nativeImport, removeSharedRuntime, sharedRuntime, testDir } from "./helpers";

const dirs: string[] = [];
afterAll(() => {
  removeSharedRuntime();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A checkpoint file with one number of its JSON changed: its checksum no longer matches. */
function damageCheckpoint(file: string, bytes: Buffer = readFileSync(file)): void {
  writeFileSync(file, bytes.toString("latin1").replace(/"seq":\d+/, '"seq":99'), "latin1");
}

function tmp(prefix: string): string {
  const d = testDir(prefix);
  dirs.push(d);
  return d;
}

async function load(name: string, source: string): Promise<Program> {
  const { url } = await sharedRuntime();
  const r = compile(source, { file: `${name}.flow`, javascript: true, runtime: url, ops: url, stdlib: url });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join("\n"));
  const file = join(tmp("ck-prog-"), `${name}.mjs`);
  writeFileSync(file, r.typescript!);
  return ((await nativeImport(pathToFileURL(file).href)) as { program: Program }).program;
}

/** The input files, read once from a folder written by writeCheckpointData. */
let data: Record<string, string> | undefined;
function inputs(): Record<string, string> {
  if (data === undefined) {
    const d = tmp("ck-data-");
    writeCheckpointData(d, 6000);
    data = { "e.jsonl": readFileSync(join(d, "e.jsonl"), "utf8"), "r.csv": readFileSync(join(d, "r.csv"), "utf8") };
  }
  return data;
}

const OUT_OPTIONS = { deadLetter: "out/dead.jsonl", lateFile: "out/late.jsonl", summary: false, progress: false, baseDir: "." };

describe("a restored run writes exactly the output of one run", () => {
  for (const [name, source] of Object.entries(CHECKPOINT_PROGRAMS)) {
    it(`${name}: from every checkpoint of a complete run, and after a stop`, async () => {
      const { rt } = await sharedRuntime();
      const program = await load(name, source);
      const newEnv = (now?: () => number) => rt.createMemoryEnv({ files: { ...inputs() }, chunkSize: 4096, ...(now && { now }) });
      const outputsOf = (env: ReturnType<typeof newEnv>) => {
        const m = new Map<string, string>();
        for (const o of program.outputs) if (o.connector?.kind === "file") m.set(o.connector.path, env.output(o.connector.path) ?? "");
        for (const f of ["out/dead.jsonl", "out/late.jsonl"]) m.set(f, env.output(f) ?? "");
        return m;
      };
      const refEnv = newEnv();
      await rt.runProgram(program, { ...OUT_OPTIONS, env: refEnv });
      const expected = outputsOf(refEnv);

      // A complete run with a checkpoint after every batch: every text it wrote.
      const texts: string[] = [];
      const storage = rt.memoryCheckpointStorage();
      const write = storage.write.bind(storage);
      storage.write = async (t: string) => {
        texts.push(t);
        await write(t);
      };
      const env = newEnv();
      const summary = await rt.runProgram(program, { ...OUT_OPTIONS, env, checkpoint: { storage, everyMs: 0 } });
      expect(outputsOf(env)).toEqual(expected);
      expect(texts.length).toBeGreaterThan(20);
      expect(rt.parseCheckpoint(texts.at(-1)!, "mem").finished).toBe(true);
      // Every operator's state, as saved, decodes, encodes and decodes back to the same values
      // (not always the same text: a store that packs itself in chunks decodes to plain arrays).
      const classes = new rt.ClassTable(program.stateClasses ?? {});
      for (const t of [texts[1]!, texts[Math.floor(texts.length / 2)]!, texts.at(-2)!]) {
        const state = rt.decodeState(rt.parseCheckpoint(t, "mem").state, classes);
        expect(rt.decodeState(JSON.parse(JSON.stringify(rt.encodeState(state, classes))), classes)).toEqual(state);
      }
      expect(summary.checkpoint?.written).toBe(texts.length);

      // A crash after checkpoint i: the outputs hold more than it says; a run restores it.
      const picks = [0, 1, 2, Math.floor(texts.length / 3), Math.floor(texts.length / 2), texts.length - 3, texts.length - 2];
      for (const i of picks) {
        storage.text = texts[i]!;
        const before = texts.length;
        const s = await rt.runProgram(program, { ...OUT_OPTIONS, env, checkpoint: { storage, everyMs: 1e9 } });
        expect(s.checkpoint?.restored).toBe(true);
        const got = outputsOf(env);
        for (const [f, text] of expected) expect(got.get(f) === text, `${name}: restored from checkpoint ${i} of ${before}, ${f} differs`).toBe(true);
        texts.length = before;
      }

      // Checkpoints written while the run goes on (their columns packed and their file written
      // over the following batches): each restores to the same outputs.
      const liveTexts: string[] = [];
      const liveStorage = rt.memoryCheckpointStorage();
      const liveWrite = liveStorage.write.bind(liveStorage);
      liveStorage.write = async (t) => {
        await liveWrite(t);
        liveTexts.push(t);
      };
      let tick = 0;
      const liveEnv = newEnv(() => (tick += 1));
      const live = await rt.runProgram(program, { ...OUT_OPTIONS, env: liveEnv, checkpoint: { storage: liveStorage, everyMs: 40 } });
      expect(outputsOf(liveEnv)).toEqual(expected);
      expect(live.checkpoint?.liveWriteMs, `${name}: no checkpoint was written while the run went on`).toBeGreaterThan(0);
      for (const i of [0, Math.floor(liveTexts.length / 2), liveTexts.length - 2]) {
        liveStorage.text = liveTexts[i]!;
        const s = await rt.runProgram(program, { ...OUT_OPTIONS, env: liveEnv, checkpoint: { storage: liveStorage, everyMs: 1e9 } });
        expect(s.checkpoint?.restored).toBe(true);
        const got = outputsOf(liveEnv);
        for (const [f, text] of expected) expect(got.get(f) === text, `${name}: restored from live checkpoint ${i} of ${liveTexts.length}, ${f} differs`).toBe(true);
      }

      // A stop (what SIGINT does with --checkpoint): open windows do not fire; a restart goes on.
      for (const stopAt of [3, 17, 40]) {
        const st = rt.memoryCheckpointStorage();
        const controller = new AbortController();
        let calls = 0;
        const stopEnv = newEnv(() => {
          if (++calls === stopAt) controller.abort();
          return calls;
        });
        const first = await rt.runProgram(program, { ...OUT_OPTIONS, env: stopEnv, signal: controller.signal, checkpoint: { storage: st, everyMs: 1e9 } });
        expect(first.interrupted).toBe(true);
        expect(first.checkpoint?.suspended).toBe(true);
        const doc = rt.parseCheckpoint(st.text!, "mem");
        expect(doc.finished).toBe(false);
        // Only rows a stream had made: every output a prefix of the full one, none longer.
        for (const [f, text] of outputsOf(stopEnv)) expect(expected.get(f)!.startsWith(text), `${name}: stopped at ${stopAt}, ${f} is not a prefix`).toBe(true);
        await rt.runProgram(program, { ...OUT_OPTIONS, env: stopEnv, checkpoint: { storage: st, everyMs: 1e9 } });
        const got = outputsOf(stopEnv);
        for (const [f, text] of expected) expect(got.get(f) === text, `${name}: resumed after a stop at ${stopAt}, ${f} differs`).toBe(true);
      }
    });
  }

  it("a checkpoint that cannot be written while the run goes on stops the run (exit 73, naming the storage)", async () => {
    const { rt } = await sharedRuntime();
    const program = await load("updating", CHECKPOINT_PROGRAMS.updating!);
    const storage = rt.memoryCheckpointStorage("ck");
    let writes = 0;
    storage.write = async () => {
      writes++;
      throw new Error("no space left on device (ENOSPC)");
    };
    let tick = 0;
    const env = rt.createMemoryEnv({ files: { ...inputs() }, chunkSize: 4096, now: () => (tick += 1) });
    const failed = await rt.runProgram(program, { ...OUT_OPTIONS, env, checkpoint: { storage, everyMs: 40 } }).then(
      () => undefined,
      (e: unknown) => e as { exitCode?: number; message?: string },
    );
    // The first checkpoint, written while the run went on, failed: the run stopped then.
    expect(writes).toBe(1);
    expect(failed?.exitCode).toBe(73);
    expect(failed?.message).toBe("cannot write a checkpoint to ck: no space left on device (ENOSPC)");
    expect(storage.text).toBeUndefined();
  });

  it("range and nexmark sources resume at their next index", async () => {
    const { rt } = await sharedRuntime();
    const programs = [
      await load("range", `source n: int = range(0, 300000)
emit final sums = n | map it % 5 | group by it | agg s = count(), c = count() -> file("out/a.jsonl")`),
      await load("nexmark", `type Bid = { auction: int, bidder: int, price: int, channel: string, url: string, dateTime: time, extra: string }
source b: Bid = nexmark("bid", events: 20000, seed: 3) event time dateTime watermark 4s
emit per = b | window tumbling(2s) | group by auction | agg n = count(), hi = max(price) -> file("out/a.jsonl")`),
    ];
    for (const program of programs) {
      const ref = rt.createMemoryEnv();
      await rt.runProgram(program, { ...OUT_OPTIONS, env: ref });
      const storage = rt.memoryCheckpointStorage();
      const texts: string[] = [];
      const write = storage.write.bind(storage);
      storage.write = async (t: string) => (texts.push(t), write(t));
      const env = rt.createMemoryEnv();
      await rt.runProgram(program, { ...OUT_OPTIONS, env, checkpoint: { storage, everyMs: 0 } });
      expect(texts.length).toBeGreaterThan(1);
      for (const i of [1, Math.floor(texts.length / 2), texts.length - 2]) {
        storage.text = texts[i]!;
        await rt.runProgram(program, { ...OUT_OPTIONS, env, checkpoint: { storage, everyMs: 1e9 } });
        expect(env.output("out/a.jsonl")).toBe(ref.output("out/a.jsonl"));
      }
      expect(ref.output("out/a.jsonl")!.length).toBeGreaterThan(0);
    }
  });
});

describe("names from data and from the program", () => {
  it("keys such as __proto__ and outputs named toString or constructor survive a restore", async () => {
    const { rt } = await sharedRuntime();
    const program = await load(
      "names",
      `type R = { k: string, v: int, t: time }
source rs: R = file("rs.jsonl") event time t watermark 0s
emit toString = rs | window tumbling(2s) | group by k | agg n = count(), ks = collect(k) -> file("out/a.jsonl")
emit final constructor = rs | group by k | agg s = sum(v) -> file("out/b.jsonl")`,
    );
    const keys = ["__proto__", "constructor", "toString", "hasOwnProperty", "a"];
    const text = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ k: keys[i % keys.length], v: i, t: 1000 * 60 * 60 * 24 + i * 100 })).join("\n");
    const newEnv = () => rt.createMemoryEnv({ files: { "rs.jsonl": text }, chunkSize: 2048 });
    const ref = newEnv();
    const refSummary = await rt.runProgram(program, { ...OUT_OPTIONS, env: ref });
    const texts: string[] = [];
    const storage = rt.memoryCheckpointStorage();
    const write = storage.write.bind(storage);
    storage.write = async (t: string) => (texts.push(t), write(t));
    const env = newEnv();
    await rt.runProgram(program, { ...OUT_OPTIONS, env, checkpoint: { storage, everyMs: 0 } });
    for (const i of [2, Math.floor(texts.length / 2)]) {
      storage.text = texts[i]!;
      const s = await rt.runProgram(program, { ...OUT_OPTIONS, env, checkpoint: { storage, everyMs: 1e9 } });
      expect(s.out).toEqual(refSummary.out);
      expect(Object.keys(s.out)).toEqual(["toString", "constructor"]);
      expect(env.output("out/a.jsonl")).toBe(ref.output("out/a.jsonl"));
      expect(env.output("out/b.jsonl")).toBe(ref.output("out/b.jsonl"));
    }
    expect(ref.output("out/b.jsonl")).toContain('"k":"__proto__"');
    expect(({} as Record<string, unknown>).s).toBeUndefined();
  });
});

describe("embedding: run({ checkpoint })", () => {
  it("a built module keeps its checkpoints in any storage; a finished lineage does nothing", async () => {
    const dir = tmp("ck-embed-");
    writeFileSync(join(dir, "p.flow"), CHECKPOINT_PROGRAMS.updating!);
    writeCheckpointData(dir, 2000);
    const built = await flowc(["build", join(dir, "p.flow"), "-o", join(dir, "p.mjs")]);
    expect(built.code, built.stderr).toBe(0);
    const mod = (await nativeImport(pathToFileURL(join(dir, "p.mjs")).href)) as { run: (o: object) => Promise<any> };
    let text: string | undefined;
    const storage = { where: "<kv>", read: async () => text, write: async (t: string) => void (text = t), remove: async () => void (text = undefined) };
    const first = await mod.run({ baseDir: dir, summary: false, maxBadMessages: 0, checkpoint: { storage, everyMs: 0 } });
    expect(first.checkpoint).toMatchObject({ where: "<kv>", restored: false, suspended: false });
    expect(text).toMatch(/^flowc-checkpoint 1 x[0-9a-f]{16}\n\{"format":"flowc-checkpoint"/);
    const out = readFileSync(join(dir, "out", "running.jsonl"), "utf8");
    const again = await mod.run({ baseDir: dir, summary: false, maxBadMessages: 0, checkpoint: { storage } });
    expect(again.checkpoint).toMatchObject({ finished: true, written: 0 });
    expect(again.totalIn).toBe(first.totalIn);
    expect(readFileSync(join(dir, "out", "running.jsonl"), "utf8")).toBe(out);
  });
});

describe("the checkpoint CLI", () => {
  const WINDOWED = (size: string, extra = "") => `type E = { k: string, u: int, v: int, note: string?, t: time }
source e: E = file("e.jsonl") event time t watermark 1s
${extra}emit per = e | window tumbling(${size}) | group by k | agg n = count(), s = sum(v) -> file("out/per.jsonl")
`;

  it("refuses a checkpoint of a program whose stateful parts changed (exit 2, file:line); stateless changes are fine; --checkpoint-reset discards it", async () => {
    const dir = tmp("ck-cli-");
    writeCheckpointData(dir, 3000);
    writeFileSync(join(dir, "p.flow"), WINDOWED("2s"));
    const first = await flowc(["run", "p.flow", "--checkpoint", "ck", "--quiet"], { cwd: dir });
    expect(first.code, first.stderr).toBe(0);
    // The window changed: refused, naming the operator's line.
    writeFileSync(join(dir, "p.flow"), WINDOWED("3s"));
    const changed = await flowc(["run", "p.flow", "--checkpoint", "ck"], { cwd: dir });
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/the checkpoint in ck does not fit this program: p\.flow:3: the windowAgg changed \(was: .*tumbling\(2000\).*; now: .*tumbling\(3000\)/);
    expect(changed.stderr).toContain("--checkpoint-reset");
    // A stage reading another field of the source: the records the window's input holds change.
    writeFileSync(join(dir, "p.flow"), WINDOWED("2s", "emit notes = e | select note -> file(\"out/notes.jsonl\")\n"));
    const wider = await flowc(["run", "p.flow", "--checkpoint", "ck"], { cwd: dir });
    expect(wider.code).toBe(2);
    expect(wider.stderr).toContain("p.flow:4: the windowAgg changed (was: input { k: string, v: int, t: time };");
    // A stateless stage added above it (the operator moves a line down): still continues.
    writeFileSync(join(dir, "p.flow"), WINDOWED("2s", "emit big = e | where v > 150 | select k, v -> file(\"out/big.jsonl\")\n"));
    const stateless = await flowc(["run", "p.flow", "--checkpoint", "ck"], { cwd: dir });
    expect(stateless.code, stateless.stderr).toBe(0);
    expect(stateless.stderr).toContain("nothing to do");
    // --checkpoint-reset: a new lineage with the changed program.
    writeFileSync(join(dir, "p.flow"), WINDOWED("3s"));
    const reset = await flowc(["run", "p.flow", "--checkpoint", "ck", "--checkpoint-reset", "--quiet"], { cwd: dir });
    expect(reset.code, reset.stderr).toBe(0);
    const inspect = await flowc(["checkpoint", "inspect", "ck"], { cwd: dir });
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toMatch(/^checkpoint in ck: p\.flow, run [0-9a-f-]+, checkpoint \d+, taken \d{4}-\d\d-\d\dT[\d:.]+Z, finished \(the run completed\)\nsources:\n {2}e {2}byte \d+ \(line \d+\)/);
    expect(inspect.stdout).toMatch(/output files:\n {2}\S+out\/per\.jsonl {2}\d+ bytes\nrows out: per \d+; late \d+; bad \d+\nstate:\n {2}p\.flow:3 {2}windowAgg {2}[\d,]+ entr(y|ies) {2}\d+(\.\d)? (B|KiB)\n$/);
    const json = await flowc(["checkpoint", "inspect", "ck", "--format", "json"], { cwd: dir });
    expect(json.code).toBe(0);
    const data = JSON.parse(json.stdout) as { program: string; finished: boolean; sources: { name: string; kind: string; read: number }[]; state: { operator: string; kind: string; entries: number; bytes: number }[] };
    expect([data.program, data.finished, data.sources.map((x) => [x.name, x.kind])]).toEqual(["p.flow", true, [["e", "file"]]]);
    expect(data.state.map((o) => [o.operator, o.kind])).toEqual([["p.flow:3", "windowAgg"]]);
  });

  it("a damaged or missing checkpoint falls back to the one before it, with a warning", async () => {
    const dir = tmp("ck-prev-");
    writeCheckpointData(dir, 60_000);
    writeFileSync(join(dir, "p.flow"), WINDOWED("2s"));
    const ref = await flowc(["run", "p.flow", "--out", "per=ref.jsonl", "--quiet"], { cwd: dir });
    expect(ref.code, ref.stderr).toBe(0);
    const expected = readFileSync(join(dir, "ref.jsonl"), "utf8");
    // Many checkpoints (one every 5 ms of wall time): the last one finished, the one before not.
    const run = await flowc(["run", "p.flow", "--checkpoint", "ck", "--checkpoint-every", "5ms", "--quiet"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const file = join(dir, "ck", "checkpoint");
    const { rt } = await sharedRuntime();
    const prev = rt.parseCheckpointBytes(readFileSync(`${file}.prev`), "ck");
    expect(prev.finished).toBe(false);
    for (const damage of ["edit", "missing"]) {
      const good = readFileSync(`${file}.prev`);
      if (damage === "edit") damageCheckpoint(file);
      else rmSync(file);
      const again = await flowc(["run", "p.flow", "--checkpoint", "ck", "--quiet"], { cwd: dir });
      expect(again.code, again.stderr).toBe(0);
      expect(again.stderr).toContain(`continuing from the checkpoint before it (checkpoint ${prev.seq} of run ${prev.runId}`);
      expect(again.stderr).toContain(damage === "edit" ? "the checkpoint in ck is damaged (its checksum does not match)" : "there is no checkpoint in ck");
      expect(readFileSync(join(dir, "out", "per.jsonl"), "utf8")).toBe(expected);
      // The lineage finished again: its checkpoints are back to the finished one and the one before.
      writeFileSync(`${file}.prev`, good);
    }
  });

  it("refuses a damaged checkpoint and an output shorter than saved (exit 2)", async () => {
    const dir = tmp("ck-cli-");
    writeCheckpointData(dir, 3000);
    writeFileSync(join(dir, "p.flow"), WINDOWED("2s"));
    const run = await flowc(["run", "p.flow", "--checkpoint", "ck", "--quiet"], { cwd: dir });
    expect(run.code, run.stderr).toBe(0);
    const file = join(dir, "ck", "checkpoint");
    const bytes = readFileSync(file);
    damageCheckpoint(file, bytes);
    const damaged = await flowc(["run", "p.flow", "--checkpoint", "ck"], { cwd: dir });
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toContain("the checkpoint in ck is damaged (its checksum does not match)");
    const inspect = await flowc(["checkpoint", "inspect", "ck"], { cwd: dir });
    expect(inspect.code).toBe(2);
    // A checkpoint of a run in progress whose output was cut short afterwards.
    const { rt } = await sharedRuntime();
    writeFileSync(file, bytes);
    const doc = rt.parseCheckpointBytes(readFileSync(file), "ck");
    doc.finished = false;
    writeFileSync(file, rt.serializeCheckpointBytes(doc));
    writeFileSync(join(dir, "out", "per.jsonl"), "");
    const shorter = await flowc(["run", "p.flow", "--checkpoint", "ck"], { cwd: dir });
    expect(shorter.code).toBe(2);
    expect(shorter.stderr).toMatch(/the output \S+per\.jsonl is 0 bytes long, shorter than the \d+ bytes of the checkpoint in ck/);
  });

  it("SIGINT with --checkpoint: a final checkpoint, open windows not fired, exit 0; the next run continues them", async () => {
    const dir = tmp("ck-sig-");
    writeCheckpointData(dir, 200_000);
    writeFileSync(join(dir, "p.flow"), WINDOWED("2s"));
    const ref = await flowc(["run", "p.flow", "--out", "per=ref.jsonl", "--quiet"], { cwd: dir });
    expect(ref.code, ref.stderr).toBe(0);
    const expected = readFileSync(join(dir, "ref.jsonl"), "utf8");
    // Started, then interrupted once it has written some rows.
    const code = await new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, [FLOWC, "run", "p.flow", "--checkpoint", "ck", "--checkpoint-every", "1h"], { cwd: dir, stdio: "ignore" });
      const poll = setInterval(() => {
        try {
          if (readFileSync(join(dir, "out", "per.jsonl"), "utf8").length > 0) {
            clearInterval(poll);
            child.kill("SIGINT");
          }
        } catch {
          // not there yet
        }
      }, 20);
      child.on("exit", (c) => (clearInterval(poll), resolve(c)));
    });
    expect(code).toBe(0);
    const partial = readFileSync(join(dir, "out", "per.jsonl"), "utf8");
    expect(partial.length).toBeLessThan(expected.length);
    expect(expected.startsWith(partial)).toBe(true);
    const inspect = await flowc(["checkpoint", "inspect", "ck"], { cwd: dir });
    expect(inspect.stdout).not.toContain("finished");
    const rest = await flowc(["run", "p.flow", "--checkpoint", "ck"], { cwd: dir });
    expect(rest.code, rest.stderr).toBe(0);
    expect(rest.stderr).toMatch(/^flowc: resumed, 199799 in \(e 199799\)/m);
    expect(readFileSync(join(dir, "out", "per.jsonl"), "utf8")).toBe(expected);
  });

  it("--checkpoint-every and --checkpoint-reset need --checkpoint; bad durations are usage errors; an unusable DIR is reported", async () => {
    const dir = mkdtempSync(join(tmp("ck-use-"), "x"));
    writeFileSync(join(dir, "p.flow"), WINDOWED("2s"));
    const every = await flowc(["run", "p.flow", "--checkpoint-every", "5s"], { cwd: dir });
    expect(every.code).toBe(2);
    expect(every.stderr).toContain("--checkpoint-every needs --checkpoint DIR");
    const bad = await flowc(["run", "p.flow", "--checkpoint", "ck", "--checkpoint-every", "soon"], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--checkpoint-every expects a duration such as 500ms, 10s or 5m, not "soon"');
    // A DIR that is a file cannot be read (exit 2); one where nothing can be written, exit 73.
    writeFileSync(join(dir, "e.jsonl"), "");
    writeFileSync(join(dir, "afile"), "");
    const notDir = await flowc(["run", "p.flow", "--checkpoint", "afile"], { cwd: dir });
    expect(notDir.code).toBe(2);
    expect(notDir.stderr).toContain("flowc: cannot read the checkpoint in afile: ENOTDIR");
    mkdirSync(join(dir, "ck3", "checkpoint.tmp"), { recursive: true });
    const unwritable = await flowc(["run", "p.flow", "--checkpoint", "ck3"], { cwd: dir });
    expect(unwritable.code).toBe(73);
    expect(unwritable.stderr).toContain("flowc: cannot write a checkpoint to ck3: EISDIR");
    const none = await flowc(["checkpoint", "inspect", "nowhere"], { cwd: dir });
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no checkpoint in nowhere");
  });
});
