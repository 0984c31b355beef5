/**
 * `npm run bench:retrieval` — retrieval latency through the retrieval service (queue request/reply)
 * on the SciFact corpus, with 16 requests in flight: the five services as processes, the corpus
 * ingested through the pipeline, then BENCH_REQUESTS (default 3,000) hybrid searches of the 300
 * SciFact queries, 16 at a time. Prints p50/p95/p99 round trip and the service's own search time.
 *
 * Then two figures that split the round trip: the same load against a canned responder (same
 * transport, same reply size, no search) — this machine's transport floor — and the search alone,
 * in-process on the same corpus, one at a time.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobName, type ReplyOf } from '@quarry/contracts';
import { type BeirDataset, loadBeirDataset } from '@quarry/eval';
import { createTestRedisPrefix, repoRoot, startIsolatedStack } from '@quarry/testing';
import { BullMqClient, JobClient } from '@quarry/transport';
import { buildInProcessIndex } from '../eval/in-process-eval';
import { ingestThroughPipeline } from '../eval/pipeline-eval';
import { summarize } from './stats';

const IN_FLIGHT = Number(process.env.BENCH_CONCURRENCY ?? 16);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 3000);
const TOP_K = 10;

type Search = (index: number) => Promise<ReplyOf<typeof JobName.SearchChunks>>;

function clientFor(redis: { url: string; prefix: string }): BullMqClient {
  return new BullMqClient({
    url: redis.url,
    prefix: redis.prefix,
    requestTimeoutMs: 30_000,
    ...(process.env.BENCH_MAX_BATCH ? { maxBatchSize: Number(process.env.BENCH_MAX_BATCH) } : {}),
  });
}

/** REQUESTS searches, IN_FLIGHT at a time (after 100 sequential warm-up searches). */
async function underLoad(search: Search): Promise<{ roundTrips: number[]; serviceTimes: number[]; perSecond: number }> {
  for (let index = 0; index < 100; index++) await search(index);
  const roundTrips: number[] = [];
  const serviceTimes: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < REQUESTS) {
        const index = next++;
        const sent = performance.now();
        const reply = await search(index);
        roundTrips.push(performance.now() - sent);
        serviceTimes.push(reply.tookMs);
      }
    }),
  );
  return { roundTrips, serviceTimes, perSecond: REQUESTS / ((performance.now() - started) / 1000) };
}

/** The same load against the canned responder, answering every search with `reply`. */
async function transportFloor(reply: ReplyOf<typeof JobName.SearchChunks>): Promise<Awaited<ReturnType<typeof underLoad>>> {
  const redis = createTestRedisPrefix('benchfloor');
  const replyFile = join(tmpdir(), `${redis.prefix}.json`);
  writeFileSync(replyFile, JSON.stringify(reply));
  const responder = fork(join(__dirname, 'canned-retrieval-responder.js'), {
    env: { ...process.env, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, CANNED_REPLY_FILE: replyFile, WORKER_CONCURRENCY: String(IN_FLIGHT) },
  });
  const client = clientFor(redis);
  try {
    await new Promise((resolve, reject) => {
      responder.once('message', resolve);
      responder.once('exit', (code) => reject(new Error(`the canned responder exited with code ${code}`)));
    });
    const jobs = new JobClient(client);
    return await underLoad(() => jobs.request(JobName.SearchChunks, { tenantId: 'eval', query: 'canned', topK: TOP_K }));
  } finally {
    await client.close();
    responder.kill('SIGTERM');
    await redis.cleanup();
  }
}

/** Hybrid searches straight on an in-process index of the same corpus: the search's own cost. */
async function searchAlone(dataset: BeirDataset): Promise<number[]> {
  const { index, embedder } = await buildInProcessIndex(dataset);
  const times: number[] = [];
  for (let round = 0; round < REQUESTS + 100; round++) {
    const started = performance.now();
    const [vector] = await embedder.embed([dataset.queries[round % dataset.queries.length].text]);
    await index.search({ tenantId: 'eval', text: dataset.queries[round % dataset.queries.length].text, vector, topK: TOP_K });
    if (round >= 100) times.push(performance.now() - started);
  }
  return times;
}

async function main(): Promise<void> {
  const dataset = loadBeirDataset(join(repoRoot(), '..', 'shared', 'data', 'ir', 'scifact'));
  const { stack, schema, redis, stop } = await startIsolatedStack('benchretrieval', {
    ...(process.env.BENCH_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_NODE_OPTIONS } : {}),
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: String(IN_FLIGHT),
  });
  const client = clientFor(redis);
  let service: Awaited<ReturnType<typeof underLoad>>;
  let sample: ReplyOf<typeof JobName.SearchChunks>;
  try {
    // RETRIEVAL_REPLICAS > 1 adds replicas, as the HPA would: they share the queue.
    for (let replica = 1; replica < Number(process.env.RETRIEVAL_REPLICAS ?? 1); replica++) await stack.startReplica('retrieval');
    await ingestThroughPipeline(stack, dataset, { url: schema.url, schema: schema.schema });
    const jobs = new JobClient(client);
    const search: Search = (index) => jobs.request(JobName.SearchChunks, { tenantId: 'eval', query: dataset.queries[index % dataset.queries.length].text, topK: TOP_K });
    service = await underLoad(search);
    sample = await search(0);
  } finally {
    await client.close();
    await stop();
  }
  const floor = await transportFloor(sample);
  const alone = await searchAlone(dataset);
  const replyKb = (Buffer.byteLength(JSON.stringify(sample)) / 1024).toFixed(1);
  console.log(
    `\n${dataset.corpus.length} documents; ${REQUESTS} hybrid searches (top ${TOP_K}, ~${replyKb} KB per reply), ${IN_FLIGHT} in flight, ${process.env.RETRIEVAL_REPLICAS ?? 1} retrieval replica(s)`,
  );
  console.log(`${summarize('round trip through the retrieval service', service.roundTrips)}  ${service.perSecond.toFixed(0)}/s`);
  console.log(summarize('search time inside the service', service.serviceTimes));
  console.log(`${summarize('transport floor: canned replies, no search', floor.roundTrips)}  ${floor.perSecond.toFixed(0)}/s`);
  console.log(summarize('search alone: in-process, one at a time', alone));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
