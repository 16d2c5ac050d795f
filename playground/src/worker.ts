// The run worker: loads the runtime bundle once, then for each job imports the generated
// program from a Blob URL and runs it over the sample inputs with the trace on (trace.ts).
// The page terminates this worker to stop a run (Stop button, time limit): a program never
// blocks the page.
import { runTraced, type OpInfo, type RunLimits, type RuntimeApi } from "./trace";
import { runTest, type TestOutcome, type TestRuntime } from "../../compiler/src/testing/run";
import type { TTest } from "../../compiler/src/check/typed";

export type WorkerRequest =
  | { type: "init"; runtimeUrl: string }
  | { type: "run"; id: number; runtimeUrl: string; code: string; files: Record<string, string>; ops: OpInfo[]; limits: RunLimits }
  /** Runs the program's `test` blocks (LANGUAGE.md §14) as `flowc test` does; `files` feed `file(…)` inputs. */
  | { type: "test"; id: number; runtimeUrl: string; code: string; files: Record<string, string>; tests: TTest[] };

export type WorkerReply =
  | { type: "ready"; ms: number }
  | { type: "progress"; id: number; progress: import("./trace").Progress }
  | { type: "done"; id: number; result: import("./trace").RunResult; loadMs: number }
  | { type: "tested"; id: number; outcomes: TestOutcome[] }
  | { type: "failed"; id: number; message: string };

interface WorkerScope {
  onmessage: ((e: MessageEvent<WorkerRequest>) => void) | null;
  postMessage(m: WorkerReply): void;
}
const scope = globalThis as unknown as WorkerScope;

let runtime: Promise<RuntimeApi> | undefined;
const loadRuntime = (url: string) => (runtime ??= import(/* @vite-ignore */ url) as Promise<RuntimeApi>);

scope.onmessage = async (e) => {
  const msg = e.data;
  if (msg.type === "init") {
    const t0 = performance.now();
    try {
      await loadRuntime(msg.runtimeUrl);
      scope.postMessage({ type: "ready", ms: performance.now() - t0 });
    } catch (err) {
      scope.postMessage({ type: "failed", id: -1, message: `cannot load the runtime: ${String(err)}` });
    }
    return;
  }
  const { id } = msg;
  try {
    const rt = await loadRuntime(msg.runtimeUrl);
    const t0 = performance.now();
    const url = URL.createObjectURL(new Blob([msg.code], { type: "text/javascript" }));
    let mod: { program: import("../../runtime/src/contract").Program };
    try {
      mod = await import(/* @vite-ignore */ url);
    } finally {
      URL.revokeObjectURL(url);
    }
    const loadMs = performance.now() - t0;
    if (msg.type === "test") {
      const outcomes: TestOutcome[] = [];
      for (const test of msg.tests) outcomes.push(await runTest(rt as unknown as TestRuntime<typeof mod.program>, mod.program, test, msg.files));
      scope.postMessage({ type: "tested", id, outcomes });
      return;
    }
    const result = await runTraced(rt, mod.program, msg.files, msg.ops, msg.limits, (progress) => scope.postMessage({ type: "progress", id, progress }));
    scope.postMessage({ type: "done", id, result, loadMs });
  } catch (err) {
    scope.postMessage({ type: "failed", id, message: err instanceof Error ? err.message : String(err) });
  }
};
