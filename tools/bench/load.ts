/**
 * `npm run bench:load` — the query path under load, with the five services as real processes
 * (RATE_LIMIT_PER_MINUTE=0) on the whole SciFact corpus (5,183 abstracts, batch uploads with a
 * write key). In one run, with closed-loop HTTP clients at 1 and 32 concurrent, it measures:
 *  - bare Fastify (its own process: parse a JSON body, answer a small object) — the floor;
 *  - raw BullMQ add → worker → result (an echo worker in that process) — the queue's own floor;
 *  - POST /api/query with distinct questions (every question unique: no cache can answer it);
 *  - POST /api/query with 64 questions asked once before the runs (cached answers);
 *  - POST /api/query with a Zipf mix (s = 1) over the 300 SciFact questions, with the answer-cache
 *    hit rate read from the gateway's quarry_cache_requests_total{kind="answer"} (n/a without it);
 *    the first run starts with none of them cached, later runs find the cache warm.
 * Each figure also as a ratio to bare Fastify's in the same run; medians over BENCH_RUNS (3) runs of
 * BENCH_SECONDS (10) per measurement. BENCH_DOCUMENTS limits the corpus.
 *
 * BENCH_PROFILE=1 instead restarts gateway, agent and retrieval under `node --cpu-prof` (profiles
 * in /tmp/prof-<service>), runs only BENCH_PROFILE_CONDITION (default `query distinct`; or
 * `query cached`) at 32 concurrent for BENCH_SECONDS, stops them and prints the top self and
 * inclusive functions of each (see load-profile.ts).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type ServiceName, type ServiceStack, repoRoot, startIsolatedStack, waitFor } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Queue, QueueEvents } from 'bullmq';
import { type LoadFigures, closedLoop, closedLoopOf } from './load-client';
import { printSummary, readProfiles, summarise } from './load-profile';
import { DistinctQuestions, RepeatedQuestions, ZipfQuestions } from './load-questions';
import { indexedCount, uploadInBatches } from './batch-upload';
import { type SampleDocument, scifactSample } from './scifact-sample';
import { describePauses, samplePauses } from './service-pauses';
import { percentile } from './stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 100_000);
const PROFILE = process.env.BENCH_PROFILE === '1';
const PROFILE_CONDITION = process.env.BENCH_PROFILE_CONDITION ?? 'query distinct';
const CONCURRENCIES = [1, 32];
const UPLOAD_BATCH = 100;
const ECHO_QUEUE = 'bench-load-echo';
const PROFILED: ServiceName[] = ['gateway', 'agent', 'retrieval'];

const CACHED_QUESTIONS = 64;

type Condition = 'fastify' | 'bullmq echo' | 'query distinct' | 'query cached' | 'query zipf';
const CONDITIONS: Condition[] = ['fastify', 'bullmq echo', 'query distinct', 'query cached', 'query zipf'];

async function ingest(stack: ServiceStack, auth: Record<string, string>, documents: SampleDocument[]): Promise<void> {
  const started = Date.now();
  await uploadInBatches(stack.gatewayUrl, auth, documents, UPLOAD_BATCH);
  await waitFor(async () => (await indexedCount(stack.gatewayUrl, auth)) >= documents.length, {
    timeoutMs: 20 * 60_000,
    intervalMs: 500,
    description: 'every document to be indexed',
  });
  console.log(`${documents.length} abstracts indexed in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

/** The floors' process; resolves with its Fastify port once its echo worker is ready too. */
async function startFloors(redis: { url: string; prefix: string }): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'tools', 'bench', 'load-floors.js')], {
    env: { PATH: process.env.PATH, FLOOR_REDIS_URL: redis.url, FLOOR_REDIS_PREFIX: redis.prefix, FLOOR_QUEUE: ECHO_QUEUE },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`load-floors exited with ${code}`)));
  });
  return { child, port: (JSON.parse(line) as { port: number }).port };
}

/** The gateway's answer-cache counters (hits, all), or undefined when it exports none. */
async function answerCacheCounters(stack: ServiceStack): Promise<{ hits: number; total: number } | undefined> {
  const text = await (await fetch(`${stack.urlOf('gateway')}/metrics`)).text();
  const series = text.split('\n').filter((line) => line.startsWith('quarry_cache_requests_total{') && line.includes('kind="answer"'));
  if (series.length === 0) return undefined;
  let hits = 0;
  let total = 0;
  for (const line of series) {
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    total += value;
    if (/="hit"/.test(line)) hits += value;
  }
  return { hits, total };
}

const median = (values: number[]) => percentile(values, 50);
const fmt = (value: number, digits = 1) => value.toFixed(digits);

async function main(): Promise<void> {
  const { stack, redis, stop } = await startIsolatedStack('benchload', { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', MAX_BATCH_FILES: String(UPLOAD_BATCH) });
  const connection = redisOptionsFromUrl(redis.url);
  const echoQueue = new Queue(ECHO_QUEUE, { connection, prefix: redis.prefix });
  const echoEvents = new QueueEvents(ECHO_QUEUE, { connection, prefix: redis.prefix });
  echoEvents.setMaxListeners(1000);
  echoQueue.setMaxListeners(1000);
  let floors: { child: ChildProcess; port: number } | undefined;
  try {
    const sample = scifactSample(DOCUMENTS, 300);
    const writeKey = await stack.createApiKey('default', 'write');
    const auth = { authorization: `Bearer ${writeKey}` };
    console.log(`uploading ${sample.documents.length} SciFact abstracts in batches of ${UPLOAD_BATCH} …`);
    await ingest(stack, auth, sample.documents);
    floors = await startFloors(redis);
    await echoEvents.waitUntilReady();

    const distinct = new DistinctQuestions(sample.queries);
    const zipf = new ZipfQuestions(sample.queries, 1);
    const hot = new DistinctQuestions(sample.queries, 'hot ');
    const cached = new RepeatedQuestions(Array.from({ length: CACHED_QUESTIONS }, () => hot.take()));
    const query = `${stack.gatewayUrl}/api/query`;
    const fastifyUrl = `http://127.0.0.1:${floors.port}/echo`;
    let round = 0;
    const measure = (condition: Condition, concurrency: number, seconds: number): Promise<LoadFigures> => {
      switch (condition) {
        case 'fastify':
          return closedLoop({ url: fastifyUrl, headers: {}, body: () => JSON.stringify({ question: distinct.take() }) }, concurrency, seconds);
        case 'bullmq echo':
          return closedLoopOf(
            async () => {
              const job = await echoQueue.add('echo', { round: round++ }, { removeOnComplete: { age: 60, count: 1000 }, removeOnFail: { age: 60 } });
              await job.waitUntilFinished(echoEvents, 10_000);
            },
            concurrency,
            seconds,
          );
        case 'query distinct':
          return closedLoop({ url: query, headers: auth, body: () => JSON.stringify({ question: distinct.take() }) }, concurrency, seconds);
        case 'query cached':
          return closedLoop({ url: query, headers: auth, body: () => JSON.stringify({ question: cached.take() }) }, concurrency, seconds);
        case 'query zipf':
          return closedLoop({ url: query, headers: auth, body: () => JSON.stringify({ question: zipf.take() }) }, concurrency, seconds);
      }
    };

    const askCachedQuestions = async () => {
      for (const question of cached.questions) {
        const response = await fetch(query, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ question }) });
        if (response.status !== 200) throw new Error(`warming the cached questions: ${response.status}`);
      }
    };

    if (PROFILE) {
      if (!CONDITIONS.includes(PROFILE_CONDITION as Condition)) throw new Error(`BENCH_PROFILE_CONDITION must be one of ${CONDITIONS.join(', ')}`);
      await askCachedQuestions();
      await profile(stack, PROFILE_CONDITION, () => measure(PROFILE_CONDITION as Condition, 32, SECONDS));
      return;
    }

    console.log('warming up …');
    await measure('query distinct', 32, 3);
    await measure('fastify', 32, 2);
    await measure('bullmq echo', 32, 2);
    await askCachedQuestions();

    const runs: Array<Map<string, LoadFigures & { hitRate?: number }>> = [];
    for (let run = 0; run < RUNS; run++) {
      const figures = new Map<string, LoadFigures & { hitRate?: number }>();
      for (const concurrency of CONCURRENCIES) {
        for (const condition of CONDITIONS) {
          const before = condition === 'query zipf' ? await answerCacheCounters(stack) : undefined;
          const queried = condition.startsWith('query');
          const pausesBefore = queried ? await samplePauses(`${stack.urlOf('gateway')}/metrics`) : undefined;
          const result: LoadFigures & { hitRate?: number } = await measure(condition, concurrency, SECONDS);
          const pauses = pausesBefore ? `  gateway: ${describePauses(pausesBefore, await samplePauses(`${stack.urlOf('gateway')}/metrics`))}` : '';
          const after = before ? await answerCacheCounters(stack) : undefined;
          if (before && after && after.total > before.total) result.hitRate = (after.hits - before.hits) / (after.total - before.total);
          figures.set(`${condition}@${concurrency}`, result);
          console.log(
            `run ${run + 1} ${`${condition} @${concurrency}`.padEnd(20)} ${fmt(result.requestsPerSecond, 0).padStart(6)} req/s  p50 ${fmt(result.p50, 2)}  p95 ${fmt(result.p95, 2)}  p99 ${fmt(result.p99, 2)} ms` +
              `  client CPU ${fmt(result.clientCpu * 100, 0)}%${condition === 'query zipf' ? `  answer-cache hits ${result.hitRate === undefined ? 'n/a' : `${fmt(result.hitRate * 100)}%`}` : ''}${pauses}`,
          );
        }
      }
      runs.push(figures);
    }
    report(runs, sample.documents.length);
  } finally {
    floors?.child.kill('SIGTERM');
    await echoEvents.close();
    await echoQueue.close();
    await stop();
  }
}

function report(runs: Array<Map<string, LoadFigures & { hitRate?: number }>>, documents: number): void {
  console.log(`\n${documents} abstracts indexed; medians of ${runs.length} run(s) of ${SECONDS} s per measurement; ratios are to bare Fastify at the same concurrency, in the same run`);
  console.log(`${'condition'.padEnd(22)}${'req/s'.padStart(8)} ${'(×fastify)'.padStart(11)}${'p50 ms'.padStart(9)} ${'(×)'.padStart(7)}${'p95 ms'.padStart(9)} ${'(×)'.padStart(7)}${'p99 ms'.padStart(9)} ${'(×)'.padStart(7)}  client CPU`);
  for (const concurrency of CONCURRENCIES) {
    for (const condition of CONDITIONS) {
      const key = `${condition}@${concurrency}`;
      const of = (pick: (figures: LoadFigures) => number) => median(runs.map((run) => pick(run.get(key) as LoadFigures)));
      const ratio = (pick: (figures: LoadFigures) => number) => median(runs.map((run) => pick(run.get(key) as LoadFigures) / pick(run.get(`fastify@${concurrency}`) as LoadFigures)));
      const hitRates = runs.map((run) => run.get(key)?.hitRate).filter((rate): rate is number => rate !== undefined);
      console.log(
        `${`${condition} @${concurrency}`.padEnd(22)}${fmt(of((f) => f.requestsPerSecond), 0).padStart(8)} ${`×${fmt(ratio((f) => f.requestsPerSecond), 3)}`.padStart(11)}` +
          `${fmt(of((f) => f.p50), 2).padStart(9)} ${`×${fmt(ratio((f) => f.p50))}`.padStart(7)}` +
          `${fmt(of((f) => f.p95), 2).padStart(9)} ${`×${fmt(ratio((f) => f.p95))}`.padStart(7)}` +
          `${fmt(of((f) => f.p99), 2).padStart(9)} ${`×${fmt(ratio((f) => f.p99))}`.padStart(7)}` +
          `  ${fmt(of((f) => f.clientCpu) * 100, 0).padStart(4)}%` +
          (condition === 'query zipf' ? `  answer-cache hit rate ${hitRates.length ? `${fmt(median(hitRates) * 100)}% (runs: ${hitRates.map((rate) => `${fmt(rate * 100)}%`).join(', ')})` : 'n/a'}` : ''),
      );
    }
  }
}

/**
 * Restarts the query path's services under the CPU profiler, warms them up, runs the load, stops
 * them and summarises only the samples taken during the load (profile timestamps and
 * process.hrtime are both the system's monotonic clock, in µs), so boot and index loading are left out.
 */
async function profile(stack: ServiceStack, condition: string, load: () => Promise<LoadFigures>): Promise<void> {
  for (const service of PROFILED) {
    const folder = `/tmp/prof-${service}`;
    rmSync(folder, { recursive: true, force: true });
    mkdirSync(folder, { recursive: true });
    await stack.stopService(service);
    await stack.startService(service, { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${folder}` });
  }
  const warm = await load();
  console.log(`warm-up: ${fmt(warm.requestsPerSecond, 0)} req/s`);
  const from = Number(process.hrtime.bigint() / 1000n);
  const figures = await load();
  const to = Number(process.hrtime.bigint() / 1000n);
  console.log(`profiled load: ${condition} @32: ${fmt(figures.requestsPerSecond, 0)} req/s, p50 ${fmt(figures.p50, 2)} ms, client CPU ${fmt(figures.clientCpu * 100, 0)}%`);
  for (const service of PROFILED) await stack.stopService(service);
  for (const service of PROFILED) printSummary(service, summarise(readProfiles(`/tmp/prof-${service}`), { fromUs: from, toUs: to }), 15);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
