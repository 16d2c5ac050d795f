// Checkpoints in a folder (`--checkpoint DIR`, LANGUAGE.md §12): DIR/checkpoint, replaced
// atomically — the new text goes to DIR/checkpoint.tmp, is fsynced, the old one is renamed to
// DIR/checkpoint.prev and the new one into its place (and the folder fsynced), so a crash at any
// moment leaves the previous checkpoint or the new one, never a torn file; and a checkpoint
// damaged afterwards (a disk, an edit) falls back to the one before it (run.ts). node: modules
// are imported dynamically, as in node.ts, so a bundle holding this file still loads in a
// browser.

import type { ReadLogStorage } from "./read-log.js";
import type { CheckpointStorage } from "./storage.js";

const NAME = "checkpoint";

const nodeFs = async () => {
  const [fsp, path] = await Promise.all([import("node:fs/promises"), import("node:path")]);
  return { fsp, path };
};

/** File `name` of folder `dir`, or undefined when there is none. */
async function readIfThere(dir: string, name: string): Promise<Uint8Array | undefined> {
  const { fsp, path } = await nodeFs();
  try {
    return await fsp.readFile(path.join(path.resolve(dir), name));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** The checkpoint storage of folder `dir` (resolved against the working directory). */
export function fileCheckpointStorage(dir: string): CheckpointStorage {
  return {
    where: dir,
    async read() {
      const bytes = await this.readBytes!();
      return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
    },
    readBytes: () => readIfThere(dir, NAME),
    readPreviousBytes: () => readIfThere(dir, `${NAME}.prev`),
    write(text) {
      return this.writeBytes!([new TextEncoder().encode(text)]);
    },
    async writeBytes(parts) {
      const { fsp, path } = await nodeFs();
      const folder = path.resolve(dir);
      await fsp.mkdir(folder, { recursive: true });
      const tmp = path.join(folder, `${NAME}.tmp`);
      const fh = await fsp.open(tmp, "w");
      try {
        // One call for all parts (each turn of the event loop a write waits for is one the run
        // may not give soon: a checkpoint is written while the run goes on).
        let left = [...parts];
        while (left.length > 0) {
          let { bytesWritten: n } = await fh.writev(left);
          while (left.length > 0 && n >= left[0]!.length) n -= left.shift()!.length;
          if (n > 0) left[0] = left[0]!.subarray(n);
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      const current = path.join(folder, NAME);
      // The one it replaces stays as the previous one (a crash between the two renames leaves
      // no DIR/checkpoint: the previous one is read then).
      await fsp.rename(current, `${current}.prev`).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "ENOENT") throw e;
      });
      await fsp.rename(tmp, current);
      // The rename itself is durable once the folder is synced (not every platform allows it).
      try {
        const d = await fsp.open(folder, "r");
        try {
          await d.sync();
        } finally {
          await d.close();
        }
      } catch {
        // a folder that cannot be opened for sync (Windows): the rename stands anyway
      }
    },
    async remove() {
      const { fsp, path } = await nodeFs();
      for (const name of [NAME, `${NAME}.prev`, `${NAME}.tmp`]) await fsp.rm(path.join(path.resolve(dir), name), { force: true });
    },
    readLog: fileReadLogStorage(dir),
  };
}

const LOG = "readlog";

/**
 * The read log of folder `dir` (DIR/readlog, read-log.ts): appended with synchronous writes —
 * a step is with the OS before the run goes on (no fsync: a crash of the machine, not of the
 * run, may lose the tail, as it may lose output not yet synced) — and replaced like the
 * checkpoint (temporary file, rename) when a checkpoint starts it anew.
 */
export function fileReadLogStorage(dir: string): ReadLogStorage {
  let fs: typeof import("node:fs") | undefined;
  let fd: number | undefined;
  let file = "";
  const closeFd = () => {
    if (fd !== undefined && fs !== undefined) fs.closeSync(fd);
    fd = undefined;
  };
  return {
    where: dir,
    async read() {
      const { fsp, path } = await nodeFs();
      try {
        return await fsp.readFile(path.join(path.resolve(dir), LOG), "utf8");
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
    async reset(text) {
      const { fsp, path } = await nodeFs();
      fs ??= await import("node:fs");
      const folder = path.resolve(dir);
      await fsp.mkdir(folder, { recursive: true });
      file = path.join(folder, LOG);
      const tmp = `${file}.tmp`;
      await fsp.writeFile(tmp, text, "utf8");
      closeFd();
      await fsp.rename(tmp, file);
      fd = fs.openSync(file, "a");
    },
    resetSync(text) {
      if (fs === undefined || file === "") throw new Error(`the read log in ${dir} is not open`);
      const tmp = `${file}.tmp`;
      fs.writeFileSync(tmp, text, "utf8");
      closeFd();
      fs.renameSync(tmp, file);
      fd = fs.openSync(file, "a");
    },
    append(text) {
      if (fd === undefined || fs === undefined) throw new Error(`the read log in ${dir} is not open`);
      fs.writeSync(fd, text);
    },
    async remove() {
      const { fsp, path } = await nodeFs();
      closeFd();
      await fsp.rm(path.join(path.resolve(dir), LOG), { force: true });
    },
  };
}
