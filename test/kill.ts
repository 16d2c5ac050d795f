// Killing a checkpointed run with SIGKILL at random moments and restarting it until it completes
// (LANGUAGE.md §12 "The guarantee"): shared by checkpoint-kill.stress.test.ts (file outputs) and
// checkpoint-sinks.stress.test.ts (network sinks).

import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { expect } from "vitest";

/** How a run ended: its exit code and stderr, or "killed". */
export type KilledRun = { code: number; stderr: string } | "killed";

/** A run that has not ended after this long hangs: it is killed and reported (exit code -2). */
const HANG_MS = 180_000;

/**
 * Runs `cmd args` in `cwd`, SIGKILLed after `killMs` (undefined: never) — counted from when the
 * file `armAfter` exists, when given (a first checkpoint: so that a later run has one to resume).
 */
export function runKilled(cmd: string, args: string[], cwd: string, killMs: number | undefined, armAfter?: string): Promise<KilledRun> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let hung = false;
    let exited = false;
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      if (exited) return;
      if (armAfter !== undefined && !existsSync(armAfter)) timer = setTimeout(arm, 5);
      else timer = setTimeout(() => child.kill("SIGKILL"), killMs);
    };
    if (killMs !== undefined) arm();
    const watchdog = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, HANG_MS);
    child.on("exit", (code, signal) => {
      exited = true;
      if (timer) clearTimeout(timer);
      clearTimeout(watchdog);
      if (hung) resolve({ code: -2, stderr: `${stderr}(still running after ${HANG_MS / 1000} s: killed)\n` });
      else resolve(signal === "SIGKILL" ? "killed" : { code: code ?? -1, stderr });
    });
  });
}

/** Kill moments: `from` ms after the start plus up to `span` ms (defaults: 80 … 980 ms). */
export interface KillTimes {
  from: number;
  span: number;
}

/**
 * Kills a checkpointed run `kills` times at pseudo-random moments (from `seed`), then lets it
 * finish; expects exit 0 (its stderr is printed otherwise). Returns how many runs were killed
 * (fewer than `kills` when a resumed run completed before its kill), the last run's stderr, and
 * whether the output was completed by a run that continued a killed one's checkpoint (`resumed`):
 * the last run says so, or — when a kill came after its run had completed (its final
 * checkpoint written, the process not yet gone) and the last run found nothing to do — the run
 * killed last had itself started after an earlier kill, from a checkpoint.
 * `checkpoint` (the checkpoint file): the first kill's moment counts from when it exists, so the
 * run that completes always continues a killed one's checkpoint (a first run killed before its
 * first checkpoint and a second one done before its kill would leave nothing to resume).
 */
export async function killUntilDone(cmd: string, args: string[], cwd: string, kills: number, seed: number, times: KillTimes = { from: 80, span: 900 }, checkpoint?: string): Promise<{ killed: number; stderr: string; resumed: boolean }> {
  let killed = 0;
  let x = seed;
  for (let attempt = 0; attempt < 200; attempt++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    // Random moments: early (startup, restore), mid-run, late (near the end, final writes).
    // The first kill, armed by the checkpoint file: within 100 ms of it (a short run may
    // finish soon after its first checkpoint, and then nothing would have been killed).
    const first = killed === 0 && checkpoint !== undefined;
    const killMs = killed < kills ? (first ? x % 100 : times.from + (x % times.span)) : undefined;
    const r = await runKilled(cmd, args, cwd, killMs, first ? checkpoint : undefined);
    if (r === "killed") {
      killed++;
      continue;
    }
    if (r.code !== 0) process.stderr.write(r.stderr);
    expect(r.code).toBe(0);
    const finishedByKilledRun = /that completed: nothing to do/.test(r.stderr) && killed >= 2;
    return { killed, stderr: r.stderr, resumed: /^flowc: resumed, /m.test(r.stderr) || finishedByKilledRun };
  }
  throw new Error("the run never completed");
}
