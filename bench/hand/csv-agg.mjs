// The hand-written baseline of the CSV workload: 1 MiB reads, split lines and cells, a Map.
// `where price > 1000 | group by channel | agg n = count(), avg_price = avg(price)` over
// auction,bidder,price,channel,dateTime,extra (no quoted cells in this file).
import { closeSync, openSync, readSync } from "node:fs";

const fd = openSync(process.argv[2], "r");
const buf = Buffer.allocUnsafe(1 << 20);
const groups = new Map();
let carry = "";
let header = true;
const row = (line) => {
  if (line === "") return;
  if (header) {
    header = false;
    return;
  }
  const cells = line.split(",");
  const price = Number(cells[2]);
  if (!(price > 1000)) return;
  const channel = cells[3];
  let g = groups.get(channel);
  if (g === undefined) groups.set(channel, (g = { n: 0, sum: 0 }));
  g.n++;
  g.sum += price;
};
for (;;) {
  const n = readSync(fd, buf, 0, buf.length, null);
  if (n === 0) break;
  const lines = (carry + buf.toString("utf8", 0, n)).split("\n");
  carry = lines.pop();
  for (const line of lines) row(line);
}
row(carry);
closeSync(fd);
let out = "";
for (const [channel, g] of groups) out += JSON.stringify({ channel, n: g.n, avg_price: g.sum / g.n }) + "\n";
process.stdout.write(out);
