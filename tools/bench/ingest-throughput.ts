/**
 * `npm run bench:ingest` — ingests the SciFact corpus (5,183 abstracts, one document each) through
 * the gateway and the queues, with the five services as real processes, and prints documents/s,
 * chunks/s, p50/p95 upload-to-searchable and peak RSS per service.
 * BENCH_DOCUMENTS limits the corpus (default: all of it).
 */
import { type ServiceName, SERVICE_NAMES, type ServiceStack, startIsolatedStack, waitFor } from '@quarry/testing';
import { Client } from 'pg';
import { scifactSample } from './scifact-sample';
import { percentile } from './stats';

const LIMIT = Number(process.env.BENCH_DOCUMENTS ?? 100_000);
const BATCH = 100;
const PARALLEL_REQUESTS = 2;

async function main(): Promise<void> {
  const { stack, schema, stop } = await startIsolatedStack('benchingest', {
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: process.env.WORKER_CONCURRENCY ?? '8',
    MAX_BATCH_FILES: String(BATCH),
  });
  const db = new Client({ connectionString: schema.url, options: `-c search_path=${schema.schema}` });
  const peakRss = new Map<ServiceName, number>();
  let sampler: NodeJS.Timeout | undefined;
  try {
    await db.connect();
    const { documents } = scifactSample(LIMIT, 1);
    console.log(`ingesting ${documents.length} SciFact abstracts in batches of ${BATCH} …`);
    sampler = setInterval(() => void sampleRss(stack, peakRss), 500);

    const started = Date.now();
    const batches: Array<typeof documents> = [];
    for (let start = 0; start < documents.length; start += BATCH) batches.push(documents.slice(start, start + BATCH));
    let nextBatch = 0;
    const auth = { authorization: `Bearer ${await stack.createApiKey('default', 'write')}` };
    const sender = async () => {
      while (nextBatch < batches.length) {
        const batch = batches[nextBatch++];
        const form = new FormData();
        for (const document of batch) form.append('file', new Blob([`# ${document.title}\n\n${document.text}\n`]), `${document.id}.md`);
        const response = await fetch(`${stack.gatewayUrl}/api/documents/batch`, { method: 'POST', body: form, headers: auth });
        if (response.status !== 202) throw new Error(`batch upload failed: ${response.status} ${await response.text()}`);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL_REQUESTS }, sender));
    const uploadedMs = Date.now() - started;

    await waitFor(
      async () => {
        const { rows } = await db.query<{ done: string }>(`SELECT count(*) FILTER (WHERE status IN ('indexed', 'failed', 'cancelled'))::text AS done FROM documents`);
        return Number(rows[0].done) >= documents.length;
      },
      { timeoutMs: 15 * 60_000, intervalMs: 200, description: 'every document to finish ingestion' },
    );
    const { rows } = await db.query<{ status: string; chunk_count: number; latency_ms: number; created: Date; indexed: Date | null }>(
      `SELECT status, chunk_count, EXTRACT(EPOCH FROM (indexed_at - created_at)) * 1000 AS latency_ms, created_at AS created, indexed_at AS indexed FROM documents`,
    );
    const indexed = rows.filter((row) => row.status === 'indexed');
    const firstUpload = Math.min(...rows.map((row) => row.created.getTime()));
    const lastIndexed = Math.max(...indexed.map((row) => (row.indexed as Date).getTime()));
    const seconds = (lastIndexed - firstUpload) / 1000;
    const chunks = indexed.reduce((sum, row) => sum + row.chunk_count, 0);
    const latencies = indexed.map((row) => Number(row.latency_ms));

    const search = await fetch(`${stack.gatewayUrl}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ question: documents[documents.length - 1].title }),
    });
    const answer = (await search.json()) as { citations: unknown[] };

    console.log(`\n${indexed.length}/${rows.length} indexed (${rows.length - indexed.length} failed), ${chunks} chunks`);
    console.log(`upload requests finished after ${(uploadedMs / 1000).toFixed(1)} s; whole corpus searchable after ${seconds.toFixed(1)} s`);
    console.log(`throughput: ${(indexed.length / seconds).toFixed(0)} documents/s, ${(chunks / seconds).toFixed(0)} chunks/s`);
    console.log(`upload-to-searchable: p50 ${(percentile(latencies, 50) / 1000).toFixed(2)} s, p95 ${(percentile(latencies, 95) / 1000).toFixed(2)} s`);
    console.log(`peak RSS: ${SERVICE_NAMES.map((name) => `${name} ${Math.round((peakRss.get(name) ?? 0) / 1024 / 1024)} MiB`).join(', ')}`);
    console.log(`check: a query for the last title returns ${answer.citations.length} citation(s)`);
  } finally {
    clearInterval(sampler);
    await db.end().catch(() => undefined);
    await stop();
  }
}

async function sampleRss(stack: ServiceStack, peak: Map<ServiceName, number>): Promise<void> {
  await Promise.all(
    SERVICE_NAMES.map(async (name) => {
      const text = await (await fetch(`${stack.urlOf(name)}/metrics`)).text().catch(() => '');
      const match = /process_resident_memory_bytes\{[^}]*\} (\d+)/.exec(text);
      if (match) peak.set(name, Math.max(peak.get(name) ?? 0, Number(match[1])));
    }),
  ).catch(() => undefined);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
