/**
 * `npm run bench:observability` — what tracing and metrics scraping cost. Two stacks of the five
 * services run side by side on this machine's Postgres and Redis with the same SciFact abstracts.
 * Stack A never traces and is never scraped: it is the floor, measured in every round. Stack B is
 * restarted once per condition:
 *  - off: as A (how far two identical stacks differ: the noise of the comparison);
 *  - scraped: every service's /metrics read each second (Prometheus at a 1 s interval);
 *  - traced: every span exported over OTLP (http/protobuf) to a sink in this process — HTTP,
 *    Postgres, Redis, every queue hop, agent nodes, model calls;
 *  - traced + scraped: both ("on");
 *  - traced 1 in 10 + scraped: OTEL_TRACES_SAMPLER=parentbased_traceidratio, ARG 0.1.
 * Metrics recording itself (prom-client counters and histograms) cannot be switched off: it is in
 * every condition. The load is a closed loop of distinct questions (no answer cache hits), three
 * rounds of A then B per condition; figures are medians of the three, and B/A their ratio.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type IsolatedStack, SERVICE_NAMES, startIsolatedStack, waitFor } from '@quarry/testing';
import { indexedCount, uploadInBatches } from './batch-upload';
import { closedLoop, type LoadFigures } from './load-client';
import { DistinctQuestions } from './load-questions';
import { scifactSample } from './scifact-sample';

const DOCUMENTS = Number(process.env.BENCH_DOCUMENTS ?? 300);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 8);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 15);
const ROUNDS = 3;
const SCRAPE_MS = 1000;

interface Condition {
  name: string;
  traced: boolean;
  scraped: boolean;
  env?: Record<string, string>;
}
const CONDITIONS: Condition[] = [
  { name: 'off', traced: false, scraped: false },
  { name: 'scraped', traced: false, scraped: true },
  { name: 'traced', traced: true, scraped: false },
  { name: 'traced + scraped', traced: true, scraped: true },
  { name: 'traced 1 in 10 + scraped', traced: true, scraped: true, env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' } },
];

/** Takes OTLP exports and counts them, as a collector on another machine would (no parsing cost here). */
async function startSpanSink(): Promise<{ url: string; exports: () => { requests: number; bytes: number }; close: () => Promise<void> }> {
  let requests = 0;
  let bytes = 0;
  const server = createServer((request, response) => {
    request.on('data', (chunk: Buffer) => (bytes += chunk.length));
    request.on('end', () => {
      requests++;
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    exports: () => ({ requests, bytes }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Scrapes every service's /metrics each second, as a Prometheus with a 1 s interval would. */
function startScraper(stack: IsolatedStack): { stop: () => void; scrapes: () => number } {
  let scrapes = 0;
  const timer = setInterval(() => {
    for (const service of SERVICE_NAMES) {
      void fetch(`${stack.stack.urlOf(service)}/metrics`).then(async (response) => {
        await response.text();
        scrapes++;
      }, () => undefined);
    }
  }, SCRAPE_MS);
  return { stop: () => clearInterval(timer), scrapes: () => scrapes };
}

async function prepare(stack: IsolatedStack, documents: ReturnType<typeof scifactSample>['documents']): Promise<Record<string, string>> {
  const auth = { authorization: `Bearer ${await stack.stack.createApiKey('default', 'write')}` };
  await uploadInBatches(stack.stack.gatewayUrl, auth, documents, 50);
  await waitFor(async () => (await indexedCount(stack.stack.gatewayUrl, auth)) >= documents.length, { timeoutMs: 10 * 60_000, intervalMs: 500, description: 'every document to be indexed' });
  return auth;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Restarts every service of the stack with the condition's environment (the stack's own stays). */
async function restartAs(stack: IsolatedStack, env: Record<string, string>): Promise<void> {
  for (const service of SERVICE_NAMES) {
    await stack.stack.stopService(service);
    await stack.stack.startService(service, env);
  }
}

async function main(): Promise<void> {
  const sample = scifactSample(DOCUMENTS, 300);
  const sink = await startSpanSink();
  const common = { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_BURST: '0' };
  const floor = await startIsolatedStack('obs-a', common);
  const measured = await startIsolatedStack('obs-b', common);
  try {
    console.log(`indexing ${sample.documents.length} SciFact abstracts in each stack …`);
    const floorAuth = await prepare(floor, sample.documents);
    const measuredAuth = await prepare(measured, sample.documents);
    const questions = new DistinctQuestions(sample.queries);
    const run = (stack: IsolatedStack, auth: Record<string, string>, seconds: number) =>
      closedLoop({ url: `${stack.stack.gatewayUrl}/api/query`, headers: auth, body: () => JSON.stringify({ question: questions.take() }) }, CONCURRENCY, seconds);
    const lines: string[] = [];
    for (const condition of CONDITIONS) {
      await restartAs(measured, condition.traced ? { OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, ...condition.env } : {});
      const scraper = condition.scraped ? startScraper(measured) : undefined;
      const exportedBefore = sink.exports();
      try {
        // Warm both (JIT, pools, embeddings) before anything is measured.
        await run(floor, floorAuth, 5);
        await run(measured, measuredAuth, 5);
        const figures: Record<'a' | 'b', LoadFigures[]> = { a: [], b: [] };
        for (let round = 0; round < ROUNDS; round++) {
          figures.a.push(await run(floor, floorAuth, SECONDS));
          figures.b.push(await run(measured, measuredAuth, SECONDS));
        }
        const rate = (side: 'a' | 'b') => median(figures[side].map((figure) => figure.requestsPerSecond));
        const p95 = (side: 'a' | 'b') => median(figures[side].map((figure) => figure.p95));
        const exported = sink.exports();
        const spansMiB = (exported.bytes - exportedBefore.bytes) / 1024 / 1024;
        const line =
          `${condition.name.padEnd(26)} A ${rate('a').toFixed(1).padStart(6)} q/s  B ${rate('b').toFixed(1).padStart(6)} q/s  B/A ${(rate('b') / rate('a')).toFixed(3)}` +
          `  p95 A ${p95('a').toFixed(1)} ms B ${p95('b').toFixed(1)} ms` +
          (condition.traced ? `  ${spansMiB.toFixed(1)} MiB exported` : '') +
          (scraper ? `  ${scraper.scrapes()} scrapes` : '');
        console.log(`  rounds B/A: ${figures.b.map((figure, i) => (figure.requestsPerSecond / figures.a[i].requestsPerSecond).toFixed(3)).join(', ')}  ${condition.name}`);
        lines.push(line);
      } finally {
        scraper?.stop();
      }
    }
    console.log(`\nPOST /api/query, ${CONCURRENCY} concurrent clients, distinct questions, ${ROUNDS} × ${SECONDS} s per stack and condition (medians):`);
    for (const line of lines) console.log(`  ${line}`);
    console.log('  cost of a condition = 1 − (B/A of the condition) ÷ (B/A of off); target ≤ 5 % for traced + scraped');
  } finally {
    await floor.stop();
    await measured.stop();
    await sink.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
