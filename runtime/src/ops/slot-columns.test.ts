import { describe, expect, it } from "vitest";
import { ClassTable, decode, encode, Packing } from "../checkpoint/codec";
import { SlotColumns, StringSlotColumns } from "./slot-columns";

/** A pseudo-random int key: large, negative and clustered ones. */
const keyAt = (i: number) => (i % 3 === 0 ? -i * 7919 : i % 3 === 1 ? 4096 + i : 2 ** 40 + i * 131);

function filled(n: number): SlotColumns {
  const s = new SlotColumns(2);
  for (let i = 0; i < n; i++) {
    const slot = s.add(keyAt(i));
    const cols = s.writable(slot);
    cols[0]![slot] = i;
    cols[1]![slot] = i * 0.5;
  }
  return s;
}

/** A store's checkpoint as the codec writes it and reads it back, its steps run by `between`. */
function checkpointOf(s: SlotColumns | StringSlotColumns, between: (step: number) => void = () => {}) {
  const packing = new Packing();
  const encoded = encode({ s }, new ClassTable(), packing);
  packing.steps.forEach((step, i) => {
    between(i);
    step();
  });
  packing.seal(false);
  return (decode(JSON.parse(JSON.stringify(encoded)), new ClassTable()) as { s: unknown }).s;
}

describe("SlotColumns", () => {
  it("finds every key's slot through growth and rehashing; unknown keys have none", () => {
    const s = filled(300_000);
    expect(s.size).toBe(300_000);
    for (let i = 0; i < 300_000; i += 997) {
      const slot = s.slotOf(keyAt(i));
      expect(slot).toBe(i);
      expect(s.cols[0]![slot]).toBe(i);
    }
    expect(s.slotOf(4095)).toBe(-1);
    expect(s.slotOf(2 ** 41)).toBe(-1);
  });

  it("gives keys in order of first appearance, small and slotted ones merged", () => {
    const s = new SlotColumns(1);
    const first = new Float64Array(8);
    first[5] = s.smallKey();
    s.add(9000);
    first[2] = s.smallKey();
    s.add(-4);
    s.add(10_000);
    first[0] = s.smallKey();
    expect(s.keysInOrder(first)).toEqual([5, 9000, 2, -4, 10_000, 0]);
    expect(s.stateEntries()).toBe(6);
  });

  it("a checkpoint holds the values of its cut, though the loop writes on while its pages are packed", () => {
    const n = 200_000; // 4 pages of 65,536 slots
    const s = filled(n);
    const saved = checkpointOf(s, (step) => {
      // Before each page is packed, the loop writes to every page (packed ones and not) and adds keys.
      for (const slot of [0, 70_000, 140_000, 199_999]) s.writable(slot)[0]![slot] = -1 - step;
      const slot = s.add(2 ** 45 + step);
      s.writable(slot)[0]![slot] = 42;
    });
    const back = new SlotColumns(2);
    back.restore(saved);
    expect(back.size).toBe(n);
    for (const i of [0, 1, 65_535, 65_536, 70_000, 140_000, 199_999]) {
      const slot = back.slotOf(keyAt(i));
      expect(slot).toBe(i);
      expect([back.cols[0]![slot], back.cols[1]![slot]]).toEqual([i, i * 0.5]);
    }
    expect(back.slotOf(2 ** 45)).toBe(-1); // added after the cut
    // The live store has the loop's writes.
    expect(s.cols[0]![140_000]).toBe(-4);
    expect(s.cols[0]![s.slotOf(2 ** 45 + 3)]).toBe(42);
    // A restored store goes on: new keys get slots after the restored ones.
    const slot = back.add(7_777_777);
    expect(slot).toBe(n);
    expect(back.slotOf(7_777_777)).toBe(n);
  });

  it("an empty store and a store without pages round-trip; a malformed one is refused", () => {
    const back = new SlotColumns(3);
    back.restore(checkpointOf(new SlotColumns(3)));
    expect(back.size).toBe(0);
    expect(back.add(5000)).toBe(0);
    expect(() => back.restore({ distinct: 1, keys: new Float64Array(1), cols: [] })).toThrow("malformed checkpoint state: slot columns");
  });
});

describe("StringSlotColumns", () => {
  /** Keys a checkpoint must give back exactly: empty, prototype names, lone surrogates, astral and long ones. */
  const odd = ["", "__proto__", "constructor", "\ud800", "x\udfff", "😀", "é".repeat(300), "a\u0000b"];
  const keyOf = (i: number) => (i < odd.length ? odd[i]! : `user-${i * 7919}`);

  it("a checkpoint packed while the loop writes and adds keys holds its cut's keys and values, exactly", () => {
    const n = 150_000; // 3 pages
    const s = new StringSlotColumns(2);
    for (let i = 0; i < n; i++) {
      const slot = s.add(keyOf(i));
      expect(slot).toBe(i);
      const cols = s.writable(slot);
      cols[0]![slot] = i;
      cols[1]![slot] = -i / 4;
    }
    expect(s.slotOf("__proto__")).toBe(1);
    expect(s.slotOf("nobody")).toBe(-1);
    const saved = checkpointOf(s, (step) => {
      for (const slot of [0, 70_000, 149_999]) s.writable(slot)[0]![slot] = -1 - step;
      const slot = s.add(`late-${step}`);
      s.writable(slot)[1]![slot] = 42;
    });
    const back = new StringSlotColumns(2);
    back.restore(saved);
    expect(back.size).toBe(n);
    expect(back.stateEntries()).toBe(n);
    expect(back.keysInOrder().slice(0, odd.length)).toEqual(odd);
    for (const i of [0, 1, 3, 4, 5, 6, 7, 65_535, 65_536, 70_000, 149_999]) {
      const slot = back.slotOf(keyOf(i));
      expect(slot).toBe(i);
      expect([back.cols[0]![slot], back.cols[1]![slot]]).toEqual([i, -i / 4]);
    }
    expect(back.slotOf("late-0")).toBe(-1); // added after the cut
    expect(s.cols[0]![149_999]).toBe(-3); // the live store has the loop's writes
    expect(back.add("new")).toBe(n);
    expect(back.keysInOrder().at(-1)).toBe("new");
  });

  it("an empty store round-trips and grows again after a restore", () => {
    const back = new StringSlotColumns(1);
    back.restore(checkpointOf(new StringSlotColumns(1)));
    expect(back.size).toBe(0);
    for (let i = 0; i < 3000; i++) {
      const slot = back.add(`k${i}`);
      back.writable(slot)[0]![slot] = i + 1;
    }
    expect(back.cols[0]![back.slotOf("k2999")]).toBe(3000);
  });

  it("refuses keys that do not match their lengths, or repeat", () => {
    const back = new StringSlotColumns(1);
    const cols = [new Float64Array(2)];
    expect(() => back.restore({ distinct: 2, text: new Uint16Array([97, 98]), lengths: new Float64Array([1, 2]), cols })).toThrow("malformed checkpoint state: slot columns");
    expect(() => back.restore({ distinct: 2, text: new Uint16Array([97, 97]), lengths: new Float64Array([1, 1]), cols })).toThrow("malformed checkpoint state: slot columns");
    back.restore({ distinct: 2, text: new Uint16Array([97, 98]), lengths: new Float64Array([1, 1]), cols });
    expect(back.keysInOrder()).toEqual(["a", "b"]);
  });
});
