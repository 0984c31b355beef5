/**
 * `npm run bench:observability` — what tracing and metrics scraping cost. Two stacks of the five
 * services run side by side on this machine's Postgres and Redis with the same SciFact abstracts:
 *  - "off": no OTLP endpoint (OpenTelemetry is not started) and nobody scrapes /metrics;
 *  - "on": every span exported as OTLP/HTTP JSON to a sink in this process (Postgres, Redis, HTTP,
 *    every queue hop, agent nodes, model calls) and every service's /metrics scraped each second.
 * Metrics recording itself (prom-client counters and histograms) cannot be switched off, so it is in
 * both. The load is a closed loop of distinct questions (no answer cache hits), in alternating
 * rounds off/on three times; the figures are the medians of the three rounds and their ratio.
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
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const ROUNDS = 3;
const SCRAPE_MS = 1000;

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

async function main(): Promise<void> {
  const sample = scifactSample(DOCUMENTS, 300);
  const sink = await startSpanSink();
  const common = { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', RATE_LIMIT_BURST: '0' };
  const off = await startIsolatedStack('obs-off', common);
  const on = await startIsolatedStack('obs-on', { ...common, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url });
  const scraper = startScraper(on);
  try {
    console.log(`indexing ${sample.documents.length} SciFact abstracts in each stack …`);
    const [offAuth, onAuth] = [await prepare(off, sample.documents), await prepare(on, sample.documents)];
    const questions = new DistinctQuestions(sample.queries);
    const run = (stack: IsolatedStack, auth: Record<string, string>, seconds: number) =>
      closedLoop({ url: `${stack.stack.gatewayUrl}/api/query`, headers: auth, body: () => JSON.stringify({ question: questions.take() }) }, CONCURRENCY, seconds);
    // Warm both (JIT, pools, caches of embeddings) before anything is measured.
    await run(off, offAuth, 5);
    await run(on, onAuth, 5);
    const figures: Record<'off' | 'on', LoadFigures[]> = { off: [], on: [] };
    for (let round = 1; round <= ROUNDS; round++) {
      figures.off.push(await run(off, offAuth, SECONDS));
      figures.on.push(await run(on, onAuth, SECONDS));
      console.log(`round ${round}: off ${figures.off[round - 1].requestsPerSecond.toFixed(1)} q/s, on ${figures.on[round - 1].requestsPerSecond.toFixed(1)} q/s`);
    }
    const rate = (condition: 'off' | 'on') => median(figures[condition].map((figure) => figure.requestsPerSecond));
    const p50 = (condition: 'off' | 'on') => median(figures[condition].map((figure) => figure.p50));
    const p95 = (condition: 'off' | 'on') => median(figures[condition].map((figure) => figure.p95));
    console.log(`\nPOST /api/query, ${CONCURRENCY} concurrent clients, distinct questions, ${ROUNDS} × ${SECONDS} s per condition (medians):`);
    for (const condition of ['off', 'on'] as const) {
      console.log(`  ${condition.padEnd(4)} ${rate(condition).toFixed(1).padStart(7)} q/s  p50 ${p50(condition).toFixed(1)} ms  p95 ${p95(condition).toFixed(1)} ms`);
    }
    console.log(`  throughput on/off: ${(rate('on') / rate('off')).toFixed(3)} (cost ${((1 - rate('on') / rate('off')) * 100).toFixed(1)} %; target ≤ 5 %)`);
    const { requests, bytes } = sink.exports();
    console.log(`  exported: ${requests} OTLP requests, ${(bytes / 1024 / 1024).toFixed(1)} MiB of spans; ${scraper.scrapes()} scrapes of /metrics`);
  } finally {
    scraper.stop();
    await off.stop();
    await on.stop();
    await sink.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
