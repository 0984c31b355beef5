/**
 * `npm run bench:retrieval` — retrieval latency through the retrieval service (queue request/reply)
 * on the SciFact corpus, with 16 requests in flight: the five services as processes, the corpus
 * ingested through the pipeline, then BENCH_REQUESTS (default 3,000) hybrid searches of the 300
 * SciFact queries, 16 at a time. Prints p50/p95/p99 round trip and the service's own search time.
 */
import { join } from 'node:path';
import { JobName } from '@quarry/contracts';
import { repoRoot, startIsolatedStack } from '@quarry/testing';
import { BullMqClient, JobClient } from '@quarry/transport';
import { loadBeirDataset } from '../eval/beir-dataset';
import { ingestThroughPipeline } from '../eval/pipeline-eval';
import { summarize } from './stats';

const IN_FLIGHT = Number(process.env.BENCH_CONCURRENCY ?? 16);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);

async function main(): Promise<void> {
  const dataset = loadBeirDataset(join(repoRoot(), '..', 'shared', 'data', 'ir', 'scifact'));
  const { stack, schema, redis, stop } = await startIsolatedStack('benchretrieval', {
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: String(IN_FLIGHT),
  });
  const client = new BullMqClient({
    url: redis.url,
    prefix: redis.prefix,
    requestTimeoutMs: 30_000,
    ...(process.env.BENCH_MAX_BATCH ? { maxBatchSize: Number(process.env.BENCH_MAX_BATCH) } : {}),
  });
  try {
    // RETRIEVAL_REPLICAS > 1 adds replicas, as the HPA would: they share the queue.
    for (let replica = 1; replica < Number(process.env.RETRIEVAL_REPLICAS ?? 1); replica++) await stack.startReplica('retrieval');
    await ingestThroughPipeline(stack, dataset, { url: schema.url, schema: schema.schema });
    const jobs = new JobClient(client);
    const ask = (index: number) => jobs.request(JobName.SearchChunks, { tenantId: 'eval', query: dataset.queries[index % dataset.queries.length].text, topK: 10 });
    for (let index = 0; index < 100; index++) await ask(index);

    const roundTrips: number[] = [];
    const serviceTimes: number[] = [];
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < REQUESTS) {
          const index = next++;
          const sent = performance.now();
          const reply = await ask(index);
          roundTrips.push(performance.now() - sent);
          serviceTimes.push(reply.tookMs);
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `\n${dataset.corpus.length} documents; ${REQUESTS} hybrid searches, ${IN_FLIGHT} in flight, ${process.env.RETRIEVAL_REPLICAS ?? 1} retrieval replica(s), ${(REQUESTS / seconds).toFixed(0)} searches/s`,
    );
    console.log(summarize('round trip through the retrieval service', roundTrips));
    console.log(summarize('search time inside the service', serviceTimes));
  } finally {
    await client.close();
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
