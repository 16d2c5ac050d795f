// The benchmark workloads: their data, and the hand-written, RxJS and @most/core versions that
// flowc's programs (bench/programs/*.flow) are compared with. Each version returns its result
// rows as plain objects, so the harness (and test/perf/bench-programs.test.ts) can check that
// every version of a workload gives the same rows as the hand-written loop.

// ---------------------------------------------------------------------------------------------
// Data

/** `n` timed values, one per millisecond from t = 0: `{ t, v }` with v = i % 100. Made lazily. */
export function ticks(n) {
  return {
    [Symbol.iterator]() {
      let i = 0;
      return {
        next() {
          if (i >= n) return { done: true, value: undefined };
          const t = i++;
          return { done: false, value: { t, v: t % 100 } };
        },
        [Symbol.iterator]() {
          return this;
        },
      };
    },
  };
}

/** `n` keyed timed values, one per millisecond: `{ t, k, v }` with k = i % keys. Made lazily. */
export function keyedTicks(n, keys) {
  return {
    [Symbol.iterator]() {
      let i = 0;
      return {
        next() {
          if (i >= n) return { done: true, value: undefined };
          const t = i++;
          return { done: false, value: { t, k: t % keys, v: t % 100 } };
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Hand-written loops: what a careful engineer writes for each job, over the same data.

export const hand = {
  /** emit final xs | where it % 3 == 0 | map it * 2 | agg total = sum(it) */
  filterMapReduce(n) {
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (i % 3 === 0) total += i * 2;
    }
    return [{ total }];
  },

  /** emit final xs | group by k = it % 1000 | agg n = count(), total = sum(it) — into a Map */
  keyedAgg(n) {
    const groups = new Map();
    for (let i = 0; i < n; i++) {
      const k = i % 1000;
      let g = groups.get(k);
      if (g === undefined) groups.set(k, (g = { n: 0, total: 0 }));
      g.n++;
      g.total += i;
    }
    const rows = [];
    for (const [k, g] of groups) rows.push({ k, n: g.n, total: g.total });
    return rows;
  },

  /** ticks | window tumbling(1s) | agg total = sum(v) — the input is in time order */
  tumblingSum(input) {
    const rows = [];
    let start = NaN;
    let total = 0;
    for (const r of input) {
      const s = r.t - (r.t % 1000);
      if (s !== start) {
        if (start === start) rows.push({ window_start: start, window_end: start + 1000, total });
        start = s;
        total = 0;
      }
      total += r.v;
    }
    if (start === start) rows.push({ window_start: start, window_end: start + 1000, total });
    return rows;
  },

  /** ticks | window tumbling(10s) | group by k | agg n = count(), total = sum(v) */
  windowedKeyed(input) {
    const rows = [];
    let start = NaN;
    let groups = new Map();
    const flush = () => {
      for (const [k, g] of groups) rows.push({ window_start: start, window_end: start + 10_000, k, n: g.n, total: g.total });
    };
    for (const r of input) {
      const s = r.t - (r.t % 10_000);
      if (s !== start) {
        if (start === start) flush();
        start = s;
        groups = new Map();
      }
      let g = groups.get(r.k);
      if (g === undefined) groups.set(r.k, (g = { n: 0, total: 0 }));
      g.n++;
      g.total += r.v;
    }
    if (start === start) flush();
    return rows;
  },
};

// ---------------------------------------------------------------------------------------------
// RxJS and @most/core, written the way their documentation suggests (operators, no hand loop).

export async function rxjsVersions() {
  const rx = await import("rxjs");
  const { filter, map, reduce, groupBy, mergeMap, toArray } = rx;
  const run = (obs) => {
    let out;
    obs.subscribe((v) => (out = v));
    return out;
  };
  return {
    filterMapReduce: (n) =>
      run(rx.range(0, n).pipe(filter((x) => x % 3 === 0), map((x) => x * 2), reduce((a, x) => a + x, 0), map((total) => [{ total }]))),
    keyedAgg: (n) =>
      run(
        rx.range(0, n).pipe(
          groupBy((x) => x % 1000),
          mergeMap((g) => g.pipe(reduce((a, x) => ((a.n++, (a.total += x)), a), { k: g.key, n: 0, total: 0 }))),
          toArray(),
        ),
      ),
    tumblingSum: (input) =>
      run(
        rx.from(input).pipe(
          groupBy((r) => r.t - (r.t % 1000)),
          mergeMap((g) => g.pipe(reduce((a, r) => ((a.total += r.v), a), { window_start: g.key, window_end: g.key + 1000, total: 0 }))),
          toArray(),
        ),
      ),
  };
}

export async function mostVersions() {
  const m = await import("@most/core");
  const { newDefaultScheduler, currentTime } = await import("@most/scheduler");
  /** A stream of the items of an iterable, sent synchronously when it starts. */
  const fromIterable = (iterable) =>
    m.newStream((sink, scheduler) => {
      let disposed = false;
      const t = currentTime(scheduler);
      for (const x of iterable) {
        if (disposed) break;
        sink.event(t, x);
      }
      sink.end(t);
      return { dispose: () => (disposed = true) };
    });
  const range = (n) => ({
    [Symbol.iterator]() {
      let i = 0;
      return { next: () => (i < n ? { done: false, value: i++ } : { done: true, value: undefined }) };
    },
  });
  const last = async (stream, init) => {
    let out = init;
    await m.runEffects(m.tap((v) => (out = v), stream), newDefaultScheduler());
    return out;
  };
  return {
    filterMapReduce: async (n) => {
      const s = m.scan((a, x) => a + x, 0, m.map((x) => x * 2, m.filter((x) => x % 3 === 0, fromIterable(range(n)))));
      return [{ total: await last(s, 0) }];
    },
    keyedAgg: async (n) => {
      const s = m.scan(
        (groups, x) => {
          const k = x % 1000;
          let g = groups.get(k);
          if (g === undefined) groups.set(k, (g = { k, n: 0, total: 0 }));
          g.n++;
          g.total += x;
          return groups;
        },
        new Map(),
        fromIterable(range(n)),
      );
      return [...(await last(s, new Map())).values()];
    },
    tumblingSum: async (input) => {
      const s = m.scan(
        (acc, r) => {
          const start = r.t - (r.t % 1000);
          let w = acc.get(start);
          if (w === undefined) acc.set(start, (w = { window_start: start, window_end: start + 1000, total: 0 }));
          w.total += r.v;
          return acc;
        },
        new Map(),
        fromIterable(input),
      );
      return [...(await last(s, new Map())).values()];
    },
  };
}
