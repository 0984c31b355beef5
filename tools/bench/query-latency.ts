/**
 * `npm run bench:query` — latency of the main job on a warm system, with the five services as real
 * processes on this machine's Postgres and Redis:
 *  - POST /api/query end to end (gateway → agent → retrieval → agent → gateway),
 *  - one queue request/reply through Quarry's transport (retrieval.search, from this process),
 *  - the raw BullMQ request/reply round trip (add + waitUntilFinished on an echo worker),
 * all measured sequentially in the same run, so the figures are comparable.
 */
import { JobName, QueueName } from '@quarry/contracts';
import { startIsolatedStack, waitFor } from '@quarry/testing';
import { BullMqClient, JobClient, redisOptionsFromUrl } from '@quarry/transport';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { scifactSample } from './scifact-sample';
import { summarize } from './stats';

const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 200);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 300);
const WARMUP = 30;

async function time(rounds: number, run: (round: number) => Promise<void>): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    await run(round);
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  // One key sends the whole closed loop: far past one client's rate limit, which is not what is measured.
  const { stack, redis, stop } = await startIsolatedStack('bench', { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' });
  const client = new BullMqClient({ url: redis.url, prefix: redis.prefix, requestTimeoutMs: 30_000 });
  const jobs = new JobClient(client);
  const connection = redisOptionsFromUrl(redis.url);
  const echoQueue = new Queue('bench-echo', { connection, prefix: redis.prefix });
  const echoEvents = new QueueEvents('bench-echo', { connection, prefix: redis.prefix });
  const echoWorker = new Worker('bench-echo', (job) => Promise.resolve(job.data as unknown), { connection, prefix: redis.prefix, concurrency: 4 });
  try {
    const sample = scifactSample(DOCUMENTS, 300);
    // Every request carries an API key, as a real client's does: authentication is part of the cost.
    const auth = { authorization: `Bearer ${await stack.createApiKey('default', 'write')}` };
    console.log(`uploading ${sample.documents.length} SciFact abstracts …`);
    const ids: string[] = [];
    for (const document of sample.documents) {
      const form = new FormData();
      form.append('file', new Blob([`# ${document.title}\n\n${document.text}\n`]), `${document.id}.md`);
      const response = await fetch(`${stack.gatewayUrl}/api/documents`, { method: 'POST', body: form, headers: auth });
      ids.push(((await response.json()) as { documentId: string }).documentId);
    }
    await waitFor(
      async () => {
        const response = await fetch(`${stack.gatewayUrl}/api/documents?status=indexed&limit=1`, { headers: auth });
        return ((await response.json()) as { total: number }).total === ids.length;
      },
      { timeoutMs: 120_000, intervalMs: 200, description: 'every document to be indexed' },
    );
    await Promise.all([echoEvents.waitUntilReady(), echoWorker.waitUntilReady()]);

    const ask = async (round: number) => {
      const response = await fetch(`${stack.gatewayUrl}/api/query`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...auth },
        body: JSON.stringify({ question: sample.queries[round % sample.queries.length] }),
      });
      if (response.status !== 200) throw new Error(`query failed: ${response.status} ${await response.text()}`);
      await response.json();
    };
    const search = async (round: number) => {
      await jobs.request(JobName.SearchChunks, { tenantId: 'default', query: sample.queries[round % sample.queries.length] });
    };
    const echo = async (round: number) => {
      const job = await echoQueue.add('echo', { round }, { removeOnComplete: { age: 60 }, removeOnFail: { age: 60 } });
      await job.waitUntilFinished(echoEvents, 10_000);
    };

    await time(WARMUP, ask);
    await time(WARMUP, search);
    await time(WARMUP, echo);
    const results = [
      summarize('POST /api/query (gateway→agent→retrieval)', await time(ROUNDS, ask)),
      summarize(`queue request ${JobName.SearchChunks} (transport)`, await time(ROUNDS, search)),
      summarize('raw BullMQ add + waitUntilFinished (echo)', await time(ROUNDS, echo)),
    ];
    const rss = await Promise.all(
      (['gateway', 'ingestion', 'retrieval', 'agent', 'task-scheduler'] as const).map(async (service) => {
        const metrics = await (await fetch(`${stack.urlOf(service)}/metrics`)).text();
        const match = /process_resident_memory_bytes\{[^}]*\} (\d+)/.exec(metrics);
        return `${service} ${match ? Math.round(Number(match[1]) / 1024 / 1024) : '?'} MiB`;
      }),
    );
    console.log(`\n${ids.length} documents indexed; sequential requests, ${WARMUP} warm-up rounds each; queue ${QueueName.Retrieval} prefix ${redis.prefix}`);
    for (const line of results) console.log(line);
    console.log(`RSS after the run: ${rss.join(', ')}`);
  } finally {
    await echoWorker.close();
    await echoEvents.close();
    await echoQueue.close();
    await client.close();
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
