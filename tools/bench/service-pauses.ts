/**
 * What stalled a service's event loop during a measurement, read from its /metrics (prom-client's
 * default metrics): garbage-collection pauses by kind, and the event loop's longest delay. A
 * request that takes no queue hop (a cached answer) can only be slow at p95/p99 when the loop
 * stalls, so the load bench prints these beside its latencies.
 */
export interface PauseSample {
  /** Seconds paused and pauses, per GC kind (major, minor, incremental, weakcb). */
  gc: Map<string, { seconds: number; count: number }>;
  /** The event loop's longest delay since the previous scrape, in seconds. */
  lagMaxSeconds: number;
}

export async function samplePauses(metricsUrl: string): Promise<PauseSample> {
  const text = await (await fetch(metricsUrl)).text();
  const gc = new Map<string, { seconds: number; count: number }>();
  let lagMaxSeconds = 0;
  for (const line of text.split('\n')) {
    // Labels in any order (services add their own, e.g. service="gateway").
    const gcLine = /^nodejs_gc_duration_seconds_(sum|count)\{[^}]*\bkind="([a-z]+)"[^}]*\} ([0-9.e+-]+)$/.exec(line);
    if (gcLine) {
      const entry = gc.get(gcLine[2]) ?? { seconds: 0, count: 0 };
      if (gcLine[1] === 'sum') entry.seconds = Number(gcLine[3]);
      else entry.count = Number(gcLine[3]);
      gc.set(gcLine[2], entry);
    }
    const lag = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (lag) lagMaxSeconds = Number(lag[1]);
  }
  return { gc, lagMaxSeconds };
}

/** The pauses between two samples, as one line: GC time and count per kind, and the loop's longest delay. */
export function describePauses(before: PauseSample, after: PauseSample): string {
  const kinds = [...after.gc.entries()]
    .map(([kind, { seconds, count }]) => {
      const earlier = before.gc.get(kind) ?? { seconds: 0, count: 0 };
      return { kind, ms: (seconds - earlier.seconds) * 1000, count: count - earlier.count };
    })
    .filter((entry) => entry.count > 0)
    .map((entry) => `${entry.kind} ${entry.count}× ${entry.ms.toFixed(0)} ms`);
  return `GC ${kinds.join(', ') || 'none'}; loop delay max ${(after.lagMaxSeconds * 1000).toFixed(0)} ms`;
}
