/**
 * An error raised by a built-in at run time (division by zero, an invalid regular expression,
 * an out-of-range argument, ...). The runtime reports it with the program position it knows;
 * the message is written to be shown to the user as is.
 */
export class FlowRuntimeError extends Error {
  /** The Flow built-in (or operator) that failed, e.g. `div`. */
  readonly builtin: string;

  constructor(builtin: string, message: string) {
    super(`${builtin}: ${message}`);
    this.name = "FlowRuntimeError";
    this.builtin = builtin;
  }
}
