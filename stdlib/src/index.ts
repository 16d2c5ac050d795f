// The Flow standard library: scalar built-ins, aggregate state helpers and the NEXMark generator.
export * from "./errors.js";
export * from "./builtins.js";
export * from "./aggregates.js";
export * from "./nexmark.js";
