// The escaping of program text (names, string literals, source excerpts, the file name) in
// generated code: one function per context. Only the printer (js/print.ts) calls these: the
// emitter builds a syntax tree, and the printer escapes every string literal, property name,
// object key and comment text it prints, so no name or string can end a comment or a literal
// and become code.

/** Characters that end a line in JavaScript source (a `//` comment ends at each of them). */
const LINE_TERMINATORS = /\r\n|[\n\r\u2028\u2029]/g;

/**
 * Text safe inside a `//` line comment or a `/** … *\/` block comment: line terminators become
 * `⏎`, and `*\/` cannot close the comment (`*\u2215`, a division slash that reads the same).
 */
export function commentText(text: string): string {
  return text.replace(LINE_TERMINATORS, "⏎").replace(/\*\//g, "*\u2215");
}

/**
 * A JavaScript string literal of any text: JSON's escaping, plus U+2028 and U+2029 (legal raw
 * in string literals since ES2019, but escaped so the output is also valid JSON-in-JS for older
 * tools and reads unambiguously).
 */
export function stringLiteral(text: string): string {
  return JSON.stringify(text).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/** An identifier name: what may follow a `.` or stand as an object key unquoted. */
const IDENTIFIER_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
export const isIdentifierName = (s: string): boolean => IDENTIFIER_NAME.test(s);

/** A canonical array index (`0`, `12`): an object key that reads the same unquoted. */
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,8})$/;

/** `.name` or `["odd-name"]`: reads a field (own property: records never inherit data fields). */
export const propertyAccess = (name: string): string => (isIdentifierName(name) ? `.${name}` : `[${stringLiteral(name)}]`);

/**
 * An object-literal key that defines an own data property. `__proto__: x` and `"__proto__": x`
 * would set the prototype instead; the computed form `["__proto__"]: x` defines the field.
 */
export const objectKey = (name: string): string => (name === "__proto__" ? `[${stringLiteral(name)}]` : isIdentifierName(name) || ARRAY_INDEX.test(name) ? name : stringLiteral(name));

/** A property name in a TypeScript interface or type literal. */
export const typeMemberKey = (name: string): string => (isIdentifierName(name) ? name : stringLiteral(name));

/** A JavaScript literal of JSON data (strings, numbers, arrays, plain objects), safe like stringLiteral. */
export function jsonLiteral(value: unknown): string {
  return JSON.stringify(value).replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}
