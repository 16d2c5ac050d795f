// Where checkpoints are kept, and the run option that asks for them (LANGUAGE.md §12). Types
// only: a leaf that run/options.ts can import without a cycle.

import type { ReadLogStorage } from "./read-log.js";

/**
 * Where checkpoints are kept: one document, replaced atomically. The Node implementation
 * (node.ts `fileCheckpointStorage`) writes a temporary file, fsyncs it and renames it over the
 * previous one; a browser or a service may keep it anywhere (memoryCheckpointStorage).
 */
export interface CheckpointStorage {
  /** For messages: the DIR of `--checkpoint DIR`. */
  readonly where: string;
  /** The checkpoint's text, or undefined when there is none. */
  read(): Promise<string | undefined>;
  /** Replaces the checkpoint: after a crash at any moment, the old text or the new one is there. */
  write(text: string): Promise<void>;
  /**
   * Optional: the checkpoint as bytes, in parts — its binary form (run.ts), columns as they are
   * packed instead of base64 in a string the size of the state. Without it, `write` gets the text
   * form.
   */
  writeBytes?(parts: readonly Uint8Array[]): Promise<void>;
  /** Optional, with `writeBytes`: the checkpoint's bytes (undefined: none). */
  readBytes?(): Promise<Uint8Array | undefined>;
  /**
   * Optional: the checkpoint before the current one (undefined: none) — restored, with a
   * warning, when the current one is damaged or missing.
   */
  readPreviousBytes?(): Promise<Uint8Array | undefined>;
  /** Discards the checkpoint (`--checkpoint-reset`). */
  remove(): Promise<void>;
  /** Where the read log of live sources is kept beside the checkpoint (read-log.ts). */
  readonly readLog?: ReadLogStorage;
}

/** RunOptions.checkpoint. */
export interface CheckpointOptions {
  storage: CheckpointStorage;
  /** Wall time between two checkpoints (default 10 s). */
  everyMs?: number;
  /** Discard the checkpoint there and start a new run (`--checkpoint-reset`). */
  reset?: boolean;
}

