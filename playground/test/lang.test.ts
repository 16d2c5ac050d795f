import { describe, expect, it } from "vitest";
import { flowTokens } from "../src/lang";

const styleOf = (toks: [string, string | null][], text: string) => toks.filter(([t]) => t === text).map(([, s]) => s);

describe("Flow highlighting", () => {
  it("colours declarations, stages, literals, types, calls and comments", () => {
    const toks = flowTokens(`// q5
type Bid = { price: int, dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime watermark 4s
emit bids /* all */
  | window hop(10s, 2s)
  | group by auction
  | agg n = count(), t = trunc(dateTime, 1h30m)
  | where price > 1_000 and x != null`);
    expect(styleOf(toks, "// q5")).toEqual(["comment"]);
    expect(styleOf(toks, "/* all */")).toEqual(["comment"]);
    expect(styleOf(toks, "type")).toEqual(["keyword"]);
    expect(styleOf(toks, "Bid")).toEqual(["typeName", "typeName"]);
    expect(styleOf(toks, "int")).toEqual(["typeName"]);
    // `time` is a type after `:` and a keyword in `event time`
    expect(styleOf(toks, "time")).toEqual(["typeName", "keyword"]);
    expect(styleOf(toks, '"bids.jsonl"')).toEqual(["string"]);
    expect(styleOf(toks, "4s")).toEqual(["number"]);
    expect(styleOf(toks, "1h30m")).toEqual(["number"]);
    expect(styleOf(toks, "1_000")).toEqual(["number"]);
    expect(styleOf(toks, "window")).toEqual(["keyword"]);
    expect(styleOf(toks, "by")).toEqual(["keyword"]);
    expect(styleOf(toks, "hop")).toEqual(["variableName.function"]);
    expect(styleOf(toks, "count")).toEqual(["variableName.function"]);
    expect(styleOf(toks, "null")).toEqual(["atom"]);
    expect(styleOf(toks, "and")).toEqual(["keyword"]);
    expect(styleOf(toks, "auction")).toEqual(["variableName"]);
  });

  it("keeps a block comment open across lines", () => {
    const toks = flowTokens("/* one\ntwo */ emit x");
    expect(toks.map(([, s]) => s)).toEqual(["comment", "comment", "keyword", "variableName"]);
  });
});
