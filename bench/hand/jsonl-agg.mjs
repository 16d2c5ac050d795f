// The hand-written baseline of the JSONL workload: 1 MiB reads, split lines, JSON.parse, a Map.
// `where price > 1000 | group by channel | agg n = count(), avg_price = avg(price)`, printed as
// JSONL in first-seen key order (what `emit final` prints).
import { openSync, readSync, closeSync } from "node:fs";

const fd = openSync(process.argv[2], "r");
const buf = Buffer.allocUnsafe(1 << 20);
const groups = new Map();
let carry = "";
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  const text = carry + buf.toString("utf8", 0, n);
  const lines = text.split("\n");
  carry = lines.pop();
  for (const line of lines) {
    if (line === "") continue;
    const b = JSON.parse(line);
    if (!(b.price > 1000)) continue;
    let g = groups.get(b.channel);
    if (g === undefined) groups.set(b.channel, (g = { n: 0, sum: 0 }));
    g.n++;
    g.sum += b.price;
  }
}
if (carry !== "") {
  const b = JSON.parse(carry);
  if (b.price > 1000) {
    let g = groups.get(b.channel);
    if (g === undefined) groups.set(b.channel, (g = { n: 0, sum: 0 }));
    g.n++;
    g.sum += b.price;
  }
}
closeSync(fd);
let out = "";
for (const [channel, g] of groups) out += JSON.stringify({ channel, n: g.n, avg_price: g.sum / g.n }) + "\n";
process.stdout.write(out);
