// Run-time types (types only, no code): the leaf module that contract.ts, the decoders and the
// formatters all import, so that the contract (which names the generated fast decoders of
// io/fast-*.ts) and the decoders (which need these types) do not import each other.
//
// Values at run time: int, float, duration → number (durations in ms); time → number (epoch ms);
// bool → boolean; string → string; optional → null or the value; array → JS array;
// record → a plain object whose keys are in the type's field order.

export type Schema =
  | { kind: "int" }
  | { kind: "float" }
  | { kind: "bool" }
  | { kind: "string" }
  | { kind: "time" }
  | { kind: "duration" }
  | { kind: "optional"; inner: Schema }
  | { kind: "array"; element: Schema }
  | { kind: "record"; fields: FieldSchema[] };

export interface FieldSchema {
  name: string;
  type: Schema;
}

export type RecordSchema = Extract<Schema, { kind: "record" }>;
