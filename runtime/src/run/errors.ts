// The errors of a run, each with the process exit code it decides (LANGUAGE.md §9).

/** An error that decides the process exit code. */
export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** `strict` and a bad input record: exit 65 (EX_DATAERR). The record was already reported. */
export class StrictInputError extends RunError {
  override name = "StrictInputError";
  constructor(
    readonly source: string,
    readonly file: string,
    readonly line: number,
    readonly error: string,
  ) {
    super(`${file}:${line}: ${error}`, 65);
  }
}

/** An input cannot be opened or read: exit 66 (EX_NOINPUT). */
export class InputError extends RunError {
  override name = "InputError";
  constructor(message: string) {
    super(message, 66);
  }
}

/** An output cannot be created: exit 73 (EX_CANTCREAT). */
export class OutputError extends RunError {
  override name = "OutputError";
  constructor(message: string) {
    super(message, 73);
  }
}

/** A CSV header lacks a declared non-optional column: exit 65 (EX_DATAERR), before any row. */
export class InputFormatError extends RunError {
  override name = "InputFormatError";
  constructor(message: string) {
    super(message, 65);
  }
}

/** Options that do not fit the program (e.g. `--out` naming no output): exit 2. */
export class UsageError extends RunError {
  override name = "UsageError";
  constructor(message: string) {
    super(message, 2);
  }
}
