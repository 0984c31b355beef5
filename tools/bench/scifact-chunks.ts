import { join } from 'node:path';
import { loadBeirDataset } from '@quarry/eval';
import { LocalHashingEmbedder } from '@quarry/llm';
import type { IndexedChunk } from '@quarry/search';
import { repoRoot } from '@quarry/testing';

export const BENCH_TENANT = 'bench';

/** SciFact's corpus as index chunks of one tenant, one chunk per abstract (as ingestion makes them), with local embeddings. */
export async function scifactChunks(options: { copies?: number; dimensions?: number } = {}): Promise<{ chunks: IndexedChunk[]; queries: Array<{ text: string; vector: Float32Array }> }> {
  const dataset = loadBeirDataset(join(repoRoot(), '..', 'shared', 'data', 'ir', 'scifact'));
  const embedder = new LocalHashingEmbedder({ dimensions: options.dimensions ?? 384 });
  const chunks: IndexedChunk[] = [];
  for (let copy = 0; copy < (options.copies ?? 1); copy++) {
    for (const document of dataset.corpus) {
      // Each copy gets text of its own (a fresh string), so copies cost what distinct chunks cost.
      const text = `${document.title}\n\n${document.text}${copy === 0 ? '' : ` (copy ${copy})`}`;
      const [vector] = await embedder.embed([text]);
      const id = `${document.id}-${copy}`;
      chunks.push({ chunkId: id, documentId: id, tenantId: BENCH_TENANT, text, vector, tags: [], folder: '/', filename: `${document.id}.md`, ordinal: 0, provenance: {} });
    }
  }
  const queries = await Promise.all(dataset.queries.map(async (query) => ({ text: query.text, vector: (await embedder.embed([query.text]))[0] })));
  return { chunks, queries };
}

/**
 * `copies` × SciFact as pages of chunks, embedded page by page — only the current page is alive,
 * as when a replica loads from Postgres. Adds the text and vector bytes produced to `payload`.
 */
export async function* scifactChunkPages(copies: number, payload: { bytes: number }, pageSize = 500): AsyncGenerator<IndexedChunk[]> {
  const dataset = loadBeirDataset(join(repoRoot(), '..', 'shared', 'data', 'ir', 'scifact'));
  const embedder = new LocalHashingEmbedder({ dimensions: 384 });
  for (let copy = 0; copy < copies; copy++) {
    for (let start = 0; start < dataset.corpus.length; start += pageSize) {
      const page: IndexedChunk[] = [];
      for (const document of dataset.corpus.slice(start, start + pageSize)) {
        const text = `${document.title}\n\n${document.text}${copy === 0 ? '' : ` (copy ${copy})`}`;
        const [vector] = await embedder.embed([text]);
        const id = `${document.id}-${copy}`;
        payload.bytes += Buffer.byteLength(text) + vector.byteLength;
        page.push({ chunkId: id, documentId: id, tenantId: BENCH_TENANT, text, vector, tags: [], folder: '/', filename: `${document.id}.md`, ordinal: 0, provenance: {} });
      }
      yield page;
    }
  }
}

/** The chunks as pages of `size`, the way a load from Postgres delivers them. */
export function* pagesOf<T>(items: readonly T[], size = 500): Generator<T[]> {
  for (let start = 0; start < items.length; start += size) yield items.slice(start, start + size);
}
