/**
 * npm run bench:fairness — one tenant's big batch must not hold another tenant's single upload
 * behind it (issue 12's target: B's 1-page upload indexed in p95 ≤ 3 s while A's 5,000-document
 * batch is in flight). The five services as processes on the local Postgres and Redis.
 *
 * Per run (BENCH_RUNS, 3), a fresh pair of tenants: A uploads BENCH_BULK (5,000) SciFact abstracts
 * in batches of 100; once A's backlog is building, B uploads a one-page document every 1.5 s and
 * the time from its upload to `indexed` is measured (polling every 25 ms), for as long as A still
 * has documents waiting (at most BENCH_SINGLES, 20, per run). Prints p50/p95/max of B's figures
 * per run, A's backlog when each of B's uploads went in, and the medians over the runs.
 */
import { startIsolatedStack, waitFor } from '@quarry/testing';
import { indexedCount, uploadInBatches } from './batch-upload';
import { scifactSample } from './scifact-sample';
import { percentile } from './stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BULK = Number(process.env.BENCH_BULK ?? 5000);
const SINGLES = Number(process.env.BENCH_SINGLES ?? 20);
const SINGLE_EVERY_MS = 1500;

const fmt = (value: number, digits = 0) => value.toFixed(digits);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const { stack, stop } = await startIsolatedStack('benchfair', { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', MAX_BATCH_FILES: '100' });
  try {
    const { documents } = scifactSample(BULK, 0);
    const perRun: Array<{ p50: number; p95: number; max: number; samples: number }> = [];
    for (let run = 1; run <= RUNS; run++) {
      const bulk = { authorization: `Bearer ${await stack.createApiKey(`bulk-${run}`, 'write')}` };
      const single = { authorization: `Bearer ${await stack.createApiKey(`single-${run}`, 'write')}` };
      const started = Date.now();
      const uploading = uploadInBatches(stack.gatewayUrl, bulk, documents.map((document) => ({ ...document, id: `${document.id}-r${run}` })), 100);
      // Let A's backlog build before B's first upload.
      await waitFor(async () => (await fetch(`${stack.gatewayUrl}/api/documents?status=queued&limit=1`, { headers: bulk }).then((response) => response.json() as Promise<{ total: number }>)).total >= 500, {
        timeoutMs: 60_000,
        intervalMs: 100,
        description: "A's backlog to build",
      });
      const latencies: number[] = [];
      const backlogs: number[] = [];
      for (let sample = 0; sample < SINGLES; sample++) {
        const backlog = BULK - (await indexedCount(stack.gatewayUrl, bulk));
        if (backlog <= 0) break;
        backlogs.push(backlog);
        const form = new FormData();
        form.append('file', new Blob([`# Memo ${run}-${sample}\n\nThe quarterly review of team ${run}-${sample} moves to Thursday at ten in room B.\n`]), `memo-${run}-${sample}.md`);
        const sent = performance.now();
        const response = await fetch(`${stack.gatewayUrl}/api/documents`, { method: 'POST', body: form, headers: single });
        if (response.status !== 202) throw new Error(`single upload failed: ${response.status} ${await response.text()}`);
        const { documentId } = (await response.json()) as { documentId: string };
        await waitFor(
          async () => ((await (await fetch(`${stack.gatewayUrl}/api/documents/${documentId}`, { headers: single })).json()) as { status: string }).status === 'indexed',
          { timeoutMs: 120_000, intervalMs: 25, description: `B's upload ${sample} to be indexed` },
        );
        latencies.push(performance.now() - sent);
        await sleep(Math.max(0, SINGLE_EVERY_MS - (performance.now() - sent)));
      }
      await uploading;
      await waitFor(async () => (await indexedCount(stack.gatewayUrl, bulk)) >= BULK, { timeoutMs: 20 * 60_000, intervalMs: 500, description: "A's batch to be indexed" });
      const seconds = (Date.now() - started) / 1000;
      const figures = { p50: percentile(latencies, 50), p95: percentile(latencies, 95), max: Math.max(...latencies), samples: latencies.length };
      perRun.push(figures);
      console.log(
        `run ${run}: A's ${BULK} documents indexed in ${fmt(seconds)} s (${fmt(BULK / seconds)}/s); B's ${figures.samples} uploads during A's backlog ` +
          `(${backlogs[0] ?? 0} → ${backlogs.at(-1) ?? 0} of A's waiting): upload → indexed p50 ${fmt(figures.p50)} ms, p95 ${fmt(figures.p95)} ms, max ${fmt(figures.max)} ms`,
      );
    }
    const medianOf = (pick: (figures: (typeof perRun)[number]) => number) => percentile(perRun.map(pick), 50);
    console.log(`\nmedians of ${RUNS} runs: B's upload → indexed p50 ${fmt(medianOf((figures) => figures.p50))} ms, p95 ${fmt(medianOf((figures) => figures.p95))} ms (target ≤ 3,000 ms), max ${fmt(medianOf((figures) => figures.max))} ms`);
  } finally {
    await stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
