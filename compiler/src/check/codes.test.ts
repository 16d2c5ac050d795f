// Each situation that used to share a catch-all code with free text now has its own code; one
// program per code, with the message it prints.
import { describe, expect, it } from "vitest";
import { parse } from "../syntax/parse";
import { check } from "./check";

const HEADER = `type Bid = { auction: int, bidder: int, price: int, channel: string, tags: [string], dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime watermark 4s
`;

function diagnostics(body: string) {
  const p = parse(HEADER + body);
  expect(p.diagnostics).toEqual([]);
  return check(p.program, { poisoned: p.poisoned }).diagnostics.map((d) => `${d.code} ${d.message}`);
}

const CASES: [string, string, string][] = [
  ["E0113", "type Node = { next: Node }\nsource ns: Node = stdin()\nemit ns", "E0113 type `Node` refers to itself"],
  ["E0223", "emit bids | select u = upper(s: channel)", "E0223 `upper` takes no named arguments"],
  ["E0224", 'emit bids | where matches(channel, "(")', "E0224 invalid regular expression: /(/: Unterminated group"],
  ["E0319", "emit big = bids | where price > 1\nemit big | select price", "E0319 `big` is an output; outputs cannot be read"],
  ["E0321 extend", "emit bids | map price | extend x = 1", "E0321 `extend` needs a record, but the element is int"],
  ["E0321 *", "emit bids | map price | select *", "E0321 `*` needs a record, but the element is int"],
  ["E0322", "emit bids | unnest tags[0] as t", "E0322 `unnest` takes a field of the record"],
  ["E0323", "emit bids | window tumbing(10s) | agg n = count()", "E0323 unknown window `tumbing`"],
  ["E0324", "emit bids | window hop(10s, 0s) | agg n = count()", "E0324 the hop window's slide must be positive"],
  ["E0325", "emit bids | distinct channel within 0s", "E0325 the `within` duration of `distinct` must be positive"],
  ["E0326", "emit bids | window tumbling(10s) | distinct channel within 1h", "E0326 `distinct` uses either the window or `within`, not both"],
  ["E0327", "emit bids as a | join (bids | where price > 1) on a.auction == auction within 5s", "E0327 a parenthesized join side needs a name"],
  ["E0328", "emit (bids | where price > 1) | join bids as b on b.auction == 1 within 5s", "E0328 the left side of this join has no name"],
  ["E0329", "emit bids as a | join bids as b on a.auction == b.auction within -5s", "E0329 the `within` duration of a join cannot be negative"],
  ["E0330", "emit bids as a | join bids as b on a.auction == b.auction within 5s .. -5s", "E0330 the lower `within` bound is above the upper one"],
  ["E0331", "emit bids | window tumbling(10s) | agg p = percentile(price, 2)", "E0331 the percentile must be a constant between 0 and 1"],
  ["W0006", "emit bids | window hop(5s, 10s) | agg n = count()", "W0006 the slide is larger than the window: some records belong to no window"],
  ["E0350", "emit bids | select p = lag(price)", "E0350 `lag` is only allowed in `extend`"],
  ["E0351", "emit bids | window tumbling(10s) | extend n = count() over 5s", "E0351 a rolling aggregate or `lag` cannot follow `window`"],
  ["E0352", "emit bids | extend n = approx_count_distinct(bidder) over 1h", "E0352 `approx_count_distinct` cannot be computed over a sliding range"],
  ["E0353", "emit bids | extend n = count() over -5s", "E0353 `over` needs a positive duration (`over 5m`) or a positive number of rows (`over 10 rows`)"],
  ["E0354", "emit bids | extend n = upper(channel) over 5s", "E0354 `over` follows an aggregate call, and `upper` is not an aggregate"],
  ["E0332", "emit bids as a | left join bids as b on a.auction == b.auction", "E0332 a `left join` needs `within` bounds or the same window on both sides"],
  ["E0332 anti", "emit bids as a | anti join bids as b on a.auction == b.auction", "E0332 an `anti join` needs `within` bounds or the same window on both sides"],
  ["E0334", "let n = bids | group by channel | agg n = count()\nemit n | top 3 by n desc with ties", "E0334 `with ties` needs a window"],
  ["E0335", "let n = bids | group by channel | agg n = count()\nemit final n | group by n | agg c = approx_count_distinct(channel)", "E0335 `approx_count_distinct` cannot take back a value, so it cannot aggregate an updating stream"],
  ["E0340", "emit bids | group by channel | agg n = count() | extend channel = upper(channel)", "E0340 `extend` cannot replace the key field `channel` of an updating stream"],
  ["E0341", "emit bids | map price | top 3 by it", "E0341 `top` without a window appends a `rank` field, so it needs a record, but the element is int"],
  ["E0342", "emit bids | select rank = price | top 3 by rank", "E0342 the rows of this `top` already have a field `rank`"],
  ["E0343", "let a = bids | group by channel | agg n = count()\nemit union(a, bids | select channel, n = 1)", "E0343 `union` mixes an updating stream with an append stream"],
  ["E0344", "let a = bids | group by channel | agg n = count(), c = count()\nlet b = bids | group by channel, n = auction | agg c = count()\nemit union(a, b)", "E0344 the updating streams of a union have different keys: (channel) and (channel, n)"],
  ["E0416", 'type U = { id: int }\nsource us: U = file("u.jsonl", format: "debezium")\nemit us', 'E0416 a source in the "debezium" format needs a `key` clause'],
  ["E0417", 'type U = { id: int }\nsource us: U = file("u.jsonl") key id\nemit us', "E0417 `key` on a source needs a format of changes (\"debezium\" or \"changelog\")"],
  ["E0418", 'type U = { id: int }\ntable us: U = file("u.jsonl", format: "changelog") key id\nemit bids | lookup us on auction', 'E0418 a table cannot read the "changelog" format'],
  ["E0419", "source t: Bid = stdin() event time dateTime idle 0s\nemit t", "E0419 the `idle` duration must be positive"],
  ["W0010", "emit bids | group by channel | agg n = count() | group by n | agg hi = max(n)", "W0010 re-aggregating with `max` keeps every row of its updating input: its state grows with the input's keys"],
  ["W0011", "emit bids | group by channel | agg n = count() | select n", "W0011 this stage drops or changes the key field `channel`: the stream becomes an append stream of its upserts (deletes are lost)"],
  ["W0012", "source r: int = range(0, 10) event time from_epoch_ms(it) idle 5s\nemit r", "W0012 a range() source never waits for input, so it never goes idle"],
];

describe("specific diagnostic codes", () => {
  for (const [name, body, expected] of CASES) {
    it(name, () => {
      expect(diagnostics(body)).toContain(expected);
    });
  }
  it("E0411: a negative watermark delay", () => {
    const p = parse("type R = { t: time }\nsource rs: R = stdin() event time t watermark -1s\nemit rs");
    expect(check(p.program, { poisoned: p.poisoned }).diagnostics.map((d) => d.code)).toEqual(["E0411"]);
  });
  it("E0412: TypeScript imports outside the CLI", () => {
    expect(diagnostics('import { f } from "./f.ts"\nemit bids | select x = f(price)')).toContain(
      "E0412 TypeScript imports are resolved by the flowc CLI and are not available here",
    );
  });
});
