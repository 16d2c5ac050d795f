import { describe, expect, it } from "vitest";
import { completionsAt } from "../../compiler/src/service/complete";
import { compile } from "../../compiler/src/pipeline";

const typedOf = (src: string) => compile(src, { checkOnly: true }).typed;
const labels = (r: ReturnType<typeof completionsAt>) => r?.items.map((i) => i.label) ?? [];

const BID = `type Bid = { auction: int, bidder: int, price: int, channel: string, dateTime: time }
source bids: Bid = file("bids.jsonl") event time dateTime watermark 4s
type Auction = { id: int, seller: int, dateTime: time }
source auctions: Auction = file("auctions.jsonl") event time dateTime
`;

describe("completion", () => {
  it("offers the stages after `|`", () => {
    const src = BID + "emit bids\n  | wh";
    const r = completionsAt(src, src.length, typedOf(BID + "emit bids\n"));
    expect(labels(r)).toEqual(expect.arrayContaining(["where", "select", "group by", "agg", "window", "join", "lookup"]));
    expect(r!.from).toBe(src.length - 2);
  });

  it("offers the fields of the record in scope, then built-ins and aggregates", () => {
    const src = BID + "emit bids\n  | where pr > 1";
    const pos = src.indexOf("pr > 1") + 2;
    const r = completionsAt(src, pos, typedOf(src));
    const ls = labels(r);
    expect(ls.slice(0, 5)).toEqual(["auction", "bidder", "price", "channel", "dateTime"]);
    expect(ls).toEqual(expect.arrayContaining(["upper", "starts_with", "count", "sum", "bids", "auctions"]));
    expect(r!.items.find((i) => i.label === "price")!.detail).toBe("int");
  });

  it("offers the fields made by a stage to the stages after it", () => {
    const src = BID + "emit bids\n  | select auction, net = price * 2\n  | where ne";
    const r = completionsAt(src, src.length, typedOf(src));
    const fields = r!.items.filter((i) => i.type === "property").map((i) => i.label);
    expect(fields).toEqual(["auction", "net"]);
  });

  it("offers a join side's fields after `alias.`", () => {
    const src = BID + "emit bids as b\n  | join auctions as a on b.auction == a.id within 5s\n  | select a.";
    const typed = typedOf(BID + "emit bids as b\n  | join auctions as a on b.auction == a.id within 5s\n  | select a.id");
    const r = completionsAt(src, src.length, typed);
    expect(labels(r)).toEqual(["id", "seller", "dateTime"]);
  });

  it("offers window functions, connectors and types where they go", () => {
    let src = BID + "emit bids | window ";
    expect(labels(completionsAt(src, src.length, undefined, true))).toEqual(["tumbling", "hop", "session"]);
    src = "source x: int = ";
    expect(labels(completionsAt(src, src.length, undefined, true))).toEqual(expect.arrayContaining(["file", "range", "nexmark"]));
    src = "source x: ";
    expect(labels(completionsAt(src, src.length, undefined, true))).toContain("int");
  });

  it("stays quiet in comments and strings, and when nothing is typed", () => {
    const src = BID + "// a comment wh";
    expect(completionsAt(src, src.length, undefined)).toBeUndefined();
    const s2 = 'source x: int = file("bi';
    expect(completionsAt(s2, s2.length, undefined)).toBeUndefined();
    const s3 = BID + "emit bids | where price > ";
    expect(completionsAt(s3, s3.length, undefined)).toBeUndefined();
  });
});
