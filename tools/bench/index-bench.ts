/**
 * `npm run bench:index` — what the embedded index costs a retrieval replica:
 *
 * 1. Memory: the retrieval service as a real process (dist/, so `npm run build` first) booted on
 *    0, 1 and 4 × SciFact (5,183 abstracts of ~1.5 KB, one 384-float vector each) stored in
 *    Postgres, loading them at boot as a replica does; its resident memory (now and at its peak)
 *    read from /proc. Two sizes give the per-chunk cost; the empty service, the fixed one. Then where
 *    the bytes go, in-process: JS heap and external buffers of the index (index-memory-probe.ts, a
 *    fresh process per size) and the HNSW graph's native memory (a bare usearch graph). Printed next
 *    to the floor of the same run: the chunk's own text and vector bytes.
 * 2. The sizing rule for the retrieval container's memory limit, from those figures.
 * 3. Search latency on a served index while a full SciFact index is built in the same process (an
 *    embedding-version switch): time-sliced as the replica does it, and in one block as it used
 *    to, against the same searches with no build (the floor); medians of BENCH_RUNS (3) runs.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { InMemoryHybridIndex, loadInSlices } from '@quarry/search';
import type { ProbeResult } from './index-memory-probe';
import { type BuildStyle, searchLatencyDuring } from './rebuild-latency';
import { pagesOf, scifactChunks } from './scifact-chunks';
import { retrievalServiceMemory } from './service-memory';
import { percentile } from './stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
/** A re-embedding switch holds the old index and builds the new one beside it until it swaps. */
const SWITCH_FACTOR = 2;
/** For growth between scaling decisions and the garbage collector's timing. */
const HEADROOM = 1.25;

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MiB`;
const bytes = (value: number): string => `${Math.round(value).toLocaleString('en-US')} B`.padStart(9);

function probe(mode: 'index' | 'graph', size: number): ProbeResult {
  const output = execFileSync(process.execPath, ['--expose-gc', join(__dirname, 'index-memory-probe.js'), mode, String(size)], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(output.trim().split('\n').at(-1) as string) as ProbeResult;
}

const slope = (small: ProbeResult, large: ProbeResult, key: keyof ProbeResult['delta']): number => (large.delta[key] - small.delta[key]) / (large.items - small.items);

async function memory(): Promise<{ perChunkPeak: number; basePeak: number }> {
  const [empty, small, large] = [await retrievalServiceMemory(0), await retrievalServiceMemory(1), await retrievalServiceMemory(4)];
  const perChunkPeak = (large.peak - small.peak) / (large.chunks - small.chunks);
  const perChunkRss = (large.rss - small.rss) / (large.chunks - small.chunks);
  console.log('\nThe retrieval service with its embedded index loaded at boot (one tenant; HNSW graph from 2,000 chunks):');
  console.log('  chunks      resident    peak (VmHWM)');
  for (const run of [empty, small, large]) console.log(`  ${run.chunks.toLocaleString('en-US').padStart(6)}  ${mib(run.rss).padStart(12)}  ${mib(run.peak).padStart(12)}`);
  // The fixed part of a replica that holds an index: the line through the two loaded sizes, at 0.
  // It is well above the empty service (the heap V8 keeps once it has grown), so it is the base.
  const basePeak = Math.max(empty.peak, small.peak - perChunkPeak * small.chunks);
  console.log(`  per chunk: ${bytes(perChunkRss)} resident, ${bytes(perChunkPeak)} at the peak (${small.chunks.toLocaleString('en-US')} → ${large.chunks.toLocaleString('en-US')} chunks)`);
  console.log(`  fixed: ${mib(empty.peak)} for the empty service, ${mib(basePeak)} for one holding an index (the loaded sizes' line at 0 chunks)`);

  const [indexSmall, indexLarge] = [probe('index', 1), probe('index', 4)];
  const [graphSmall, graphLarge] = [probe('graph', 5000), probe('graph', 20000)];
  const heap = slope(indexSmall, indexLarge, 'heapUsed');
  const external = slope(indexSmall, indexLarge, 'external');
  // Its id maps are on the JS heap, already counted above.
  const graph = slope(graphSmall, graphLarge, 'rss') - slope(graphSmall, graphLarge, 'heapUsed');
  const payload = (indexLarge.payloadBytes - indexSmall.payloadBytes) / (indexLarge.items - indexSmall.items);
  console.log('  where a chunk’s bytes live (live after a full GC, in-process):');
  console.log(`    JS heap (text, chunk record, BM25 entry and terms)    ${bytes(heap)}`);
  console.log(`    external buffers (vector slab, posting lists)         ${bytes(external)}`);
  console.log(`    HNSW graph (usearch, native, 8-bit vectors + links)   ${bytes(graph)}`);
  console.log(`    live total                                            ${bytes(heap + external + graph)}`);
  console.log(`    floor: the chunk's own text + vector                  ${bytes(payload)}  → live ${((heap + external + graph) / payload).toFixed(1)}×, peak ${(perChunkPeak / payload).toFixed(1)}× the payload`);
  console.log('    (the peak adds what the garbage collector lets accumulate while loading: rows, tokens, term maps)');
  return { perChunkPeak, basePeak };
}

function sizing(perChunkPeak: number, basePeak: number): void {
  const limit = (chunks: number): number => basePeak + chunks * perChunkPeak * SWITCH_FACTOR * HEADROOM;
  console.log('\nSizing the retrieval container (k8s resources.limits.memory), chunks = all indexed chunks of the active embedding model:');
  console.log(`  limit = ${mib(basePeak)} + chunks × ${Math.round(perChunkPeak).toLocaleString('en-US')} B × ${SWITCH_FACTOR} (old + new index during a re-embedding switch) × ${HEADROOM} (headroom)`);
  for (const chunks of [10_000, 100_000, 1_000_000]) console.log(`  ${chunks.toLocaleString('en-US').padStart(9)} chunks → ${mib(limit(chunks))}`);
  console.log('  (a chunk costs more with more text: SciFact abstracts average ~1.5 KB, about a 400-token chunk)');
}

async function latency(): Promise<void> {
  const { chunks, queries } = await scifactChunks();
  const served = new InMemoryHybridIndex();
  await loadInSlices(served, pagesOf(chunks));
  await served.graphsBuilt();
  const styles: BuildStyle[] = ['idle', 'time-sliced', 'one block'];
  const results = new Map<BuildStyle, Array<{ p50: number; p99: number; max: number; buildMs: number; n: number }>>(styles.map((style) => [style, []]));
  for (let run = 0; run < RUNS; run++) {
    const sliced = await searchLatencyDuring('time-sliced', served, chunks, queries, 0);
    const idle = await searchLatencyDuring('idle', served, chunks, queries, sliced.buildMs);
    const block = await searchLatencyDuring('one block', served, chunks, queries, 0);
    for (const [style, sample] of [
      ['time-sliced', sliced],
      ['idle', idle],
      ['one block', block],
    ] as const) {
      results.get(style)?.push({ p50: percentile(sample.latencies, 50), p99: percentile(sample.latencies, 99), max: Math.max(...sample.latencies), buildMs: sample.buildMs, n: sample.latencies.length });
    }
  }
  console.log(`\nHybrid searches (top 10, 250/s by the clock) on a served SciFact index while a second full index (${chunks.length} chunks) is built in the same process; medians of ${RUNS} runs:`);
  console.log('  build                         searches    p50 ms    p99 ms    max ms   build s');
  const idleP99 = median((results.get('idle') ?? []).map((r) => r.p99));
  for (const style of styles) {
    const runs = results.get(style) ?? [];
    const m = (key: 'p50' | 'p99' | 'max' | 'buildMs' | 'n') => median(runs.map((r) => r[key]));
    const label = style === 'idle' ? 'none (idle: the floor)' : style === 'time-sliced' ? 'time-sliced (the replica)' : 'one block (the former loader)';
    console.log(
      `  ${label.padEnd(30)}${m('n').toFixed(0).padStart(8)}  ${m('p50').toFixed(2).padStart(8)}  ${m('p99').toFixed(2).padStart(8)}  ${m('max').toFixed(1).padStart(8)}  ${style === 'idle' ? '       –' : (m('buildMs') / 1000).toFixed(2).padStart(8)}`,
    );
  }
  const slicedP99 = median((results.get('time-sliced') ?? []).map((r) => r.p99));
  console.log(`  p99 during a time-sliced rebuild: ${(slicedP99 / idleP99).toFixed(1)}× the idle floor (${slicedP99.toFixed(2)} vs ${idleP99.toFixed(2)} ms)`);
}

async function main(): Promise<void> {
  const { perChunkPeak, basePeak } = await memory();
  sizing(perChunkPeak, basePeak);
  await latency();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
