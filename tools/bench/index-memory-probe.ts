/**
 * Child process of `npm run bench:index` (run with --expose-gc), one size per process so nothing
 * else lives in its heap:
 * - `index <copies>`: loads `copies` × SciFact into a fresh InMemoryHybridIndex page by page (as a
 *   replica loads from Postgres: only the current page of input is alive), then prints how much
 *   the process grew, live (JS heap, external buffers) and resident (now, and at its peak);
 * - `graph <vectors>`: the same for a bare HNSW graph (usearch: native memory) fed from one reused
 *   array, so no JS garbage blurs its resident growth.
 */
import { HnswGraph, InMemoryHybridIndex, loadInSlices } from '@quarry/search';
import { scifactChunkPages } from './scifact-chunks';

export interface MemoryDelta {
  rss: number;
  heapUsed: number;
  external: number;
  /** Peak resident memory growth: what a container's memory limit must hold. */
  maxRss: number;
}

export interface ProbeResult {
  items: number;
  payloadBytes: number;
  delta: MemoryDelta;
}

function settledMemory(): MemoryDelta {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  for (let i = 0; i < 4; i++) gc();
  const { rss, heapUsed, external } = process.memoryUsage();
  return { rss, heapUsed, external, maxRss: process.resourceUsage().maxRSS * 1024 };
}

const minus = (after: MemoryDelta, before: MemoryDelta): MemoryDelta => ({
  rss: after.rss - before.rss,
  heapUsed: after.heapUsed - before.heapUsed,
  external: after.external - before.external,
  maxRss: after.maxRss - before.maxRss,
});

async function probeIndex(copies: number): Promise<ProbeResult> {
  // The baseline holds the libraries already loaded and the index's code warmed up on a tiny index.
  const warmUp = new InMemoryHybridIndex();
  await loadInSlices(warmUp, [
    Array.from({ length: 10 }, (_, n) => ({ chunkId: `w${n}`, documentId: `w${n}`, tenantId: 'warm-up', text: `warm up ${n}`, vector: new Float32Array(384).fill(n + 1), tags: [], folder: '/', filename: 'w.md', ordinal: 0, provenance: {} })),
  ]);
  warmUp.search({ tenantId: 'warm-up', text: 'warm', vector: new Float32Array(384).fill(1), topK: 1 });
  const before = settledMemory();
  const index = new InMemoryHybridIndex();
  const payload = { bytes: 0 };
  await loadInSlices(index, scifactChunkPages(copies, payload));
  await index.graphsBuilt();
  const after = settledMemory();
  if (index.search({ tenantId: 'bench', text: 'cancer', vector: new Float32Array(0), topK: 1 }).length === 0) throw new Error('the index answers nothing');
  return { items: index.stats().chunks, payloadBytes: payload.bytes, delta: minus(after, before) };
}

function probeGraph(vectors: number): ProbeResult {
  const before = settledMemory();
  const graph = new HnswGraph(384, 64);
  const vector = new Float32Array(384);
  let seed = 7;
  for (let n = 0; n < vectors; n++) {
    let norm = 0;
    for (let i = 0; i < vector.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      vector[i] = seed / 2147483648 - 0.5;
      norm += vector[i] * vector[i];
    }
    for (let i = 0; i < vector.length; i++) vector[i] /= Math.sqrt(norm);
    graph.add(`v${n}`, vector);
  }
  const after = settledMemory();
  if (graph.size !== vectors) throw new Error('the graph lost vectors');
  return { items: vectors, payloadBytes: vectors * 384 * 4, delta: minus(after, before) };
}

async function main(): Promise<void> {
  const [mode, size] = [process.argv[2], Number(process.argv[3])];
  const result = mode === 'graph' ? probeGraph(size) : await probeIndex(size);
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
