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
 * file `after` exists, when given (a run's first checkpoint).
 */
export function runKilled(cmd: string, args: string[], cwd: string, killMs: number | undefined, after?: string): Promise<KilledRun> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    let hung = false;
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    let timer: ReturnType<typeof setTimeout> | undefined;
    if (killMs !== undefined) {
      const arm = () => (timer = setTimeout(() => child.kill("SIGKILL"), killMs));
      if (after === undefined) arm();
      else {
        const poll = () => (existsSync(after) ? arm() : (timer = setTimeout(poll, 10)));
        poll();
      }
    }
    const watchdog = setTimeout(() => {
      hung = true;
      child.kill("SIGKILL");
    }, HANG_MS);
    child.on("exit", (code, signal) => {
      if (timer) clearTimeout(timer);
      clearTimeout(watchdog);
      if (hung) resolve({ code: -2, stderr: `${stderr}(still running after ${HANG_MS / 1000} s: killed)\n` });
      else resolve(signal === "SIGKILL" ? "killed" : { code: code ?? -1, stderr });
    });
  });
}

/**
 * Kill moments: `from` ms after the start plus up to `span` ms (defaults: 80 … 980 ms). With
 * `firstAfter` (the checkpoint file), the first kill comes within 100 ms of that file appearing: on a
 * loaded machine every kill could otherwise come before the first checkpoint, and no restore
 * would be tested. Later kills count from the start (startup and restore are moments too).
 */
export interface KillTimes {
  from: number;
  span: number;
  firstAfter?: string;
}

/**
 * Kills a checkpointed run `kills` times at pseudo-random moments (from `seed`), then lets it
 * finish; expects exit 0 (its stderr is printed otherwise). Returns how many runs were killed
 * (fewer than `kills` when a resumed run completed before its kill) and the last run's stderr.
 */
export async function killUntilDone(cmd: string, args: string[], cwd: string, kills: number, seed: number, times: KillTimes = { from: 80, span: 900 }): Promise<{ killed: number; stderr: string }> {
  let killed = 0;
  let x = seed;
  for (let attempt = 0; attempt < 200; attempt++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    // Random moments: early (startup, restore), mid-run, late (near the end, final writes).
    // The first kill with `firstAfter`: within 100 ms of the first checkpoint (a short run may
    // finish soon after it).
    const first = killed === 0 && times.firstAfter !== undefined;
    const killMs = killed < kills ? (first ? x % 100 : times.from + (x % times.span)) : undefined;
    const r = await runKilled(cmd, args, cwd, killMs, first ? times.firstAfter : undefined);
    if (r === "killed") {
      killed++;
      continue;
    }
    if (r.code !== 0) process.stderr.write(r.stderr);
    expect(r.code).toBe(0);
    return { killed, stderr: r.stderr };
  }
  throw new Error("the run never completed");
}
