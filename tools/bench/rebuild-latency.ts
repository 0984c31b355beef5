import { setImmediate as nextTurn } from 'node:timers/promises';
import { InMemoryHybridIndex, type IndexedChunk, type SearchIndex, loadInSlices } from '@quarry/search';
import { BENCH_TENANT, pagesOf } from './scifact-chunks';

export interface LatencySample {
  /** Milliseconds from each search's arrival to its answer. */
  latencies: number[];
  /** How long the concurrent build took (0 when idle). */
  buildMs: number;
}

/** Searches arrive every this many ms (250/s), whether or not the process is busy. */
const ARRIVAL_EVERY_MS = 4;

/**
 * Open-loop searches against `served`: one arrives every ARRIVAL_EVERY_MS by the clock, and its
 * latency counts from that arrival — so a search that arrives while the event loop is held (by a
 * build that does not yield) waits, and the wait is measured, as it would be for a job waiting in
 * Redis. Runs until `done()` and for at least `minMs`.
 */
async function searchWhile(served: SearchIndex, queries: ReadonlyArray<{ text: string; vector: Float32Array }>, done: () => boolean, minMs: number): Promise<number[]> {
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  while (!done() || performance.now() - started < minMs) {
    await nextTurn(); // other work of the process (the build) runs here
    const now = performance.now();
    for (; started + next * ARRIVAL_EVERY_MS <= now; next++) {
      const query = queries[next % queries.length];
      await served.search({ tenantId: BENCH_TENANT, text: query.text, vector: query.vector, topK: 10 });
      latencies.push(performance.now() - (started + next * ARRIVAL_EVERY_MS));
    }
  }
  return latencies;
}

export type BuildStyle = 'idle' | 'time-sliced' | 'one block';

/**
 * Search latency on a served index while a second, complete index is built in the same process
 * (what a replica does when it switches embedding versions): with the time-sliced loader, in one
 * block (every document upserted back to back, as the loader did before), or with no build (idle).
 */
export async function searchLatencyDuring(style: BuildStyle, served: SearchIndex, chunks: readonly IndexedChunk[], queries: ReadonlyArray<{ text: string; vector: Float32Array }>, idleMs: number): Promise<LatencySample> {
  let finished = style === 'idle';
  let buildMs = 0;
  const build = async (): Promise<void> => {
    await nextTurn(); // let the search loop start first
    const started = performance.now();
    const index = new InMemoryHybridIndex();
    if (style === 'time-sliced') await loadInSlices(index, pagesOf(chunks));
    else {
      // As the former loader did: through the port, awaited, which never gives the event loop a turn.
      const port: SearchIndex = index;
      for (const chunk of chunks) await port.upsertDocumentChunks(chunk.tenantId, chunk.documentId, [chunk]);
    }
    await index.graphsBuilt();
    buildMs = performance.now() - started;
    finished = true;
  };
  const [latencies] = await Promise.all([searchWhile(served, queries, () => finished, style === 'idle' ? idleMs : 0), style === 'idle' ? Promise.resolve() : build()]);
  return { latencies, buildMs };
}
