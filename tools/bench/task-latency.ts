/**
 * npm run bench:tasks — the task manager's latency targets (issue 12), on the five services as
 * processes against the local Postgres and Redis (own schema and prefix, removed afterwards):
 *
 * 1. Submit → running on an idle system: BENCH_TASKS (200) `diagnostics.wait {seconds: 0}` tasks
 *    submitted one at a time through POST /api/tasks; per task the HTTP submit round trip, and
 *    stored → running (`startedAt − createdAt`, both read from Postgres' clock).
 * 2. The API with BENCH_QUEUED (10,000) tasks queued: GET /api/tasks/{id} and GET /api/documents,
 *    sequentially, in BENCH_RUNS (3) blocks of 300 requests each, before and after that many
 *    low-priority tasks wait in the queue (`diagnostics.wait` 600 s: WORKER_CONCURRENCY of them
 *    run, the rest wait); medians of the blocks and their ratio.
 */
import { startIsolatedStack, waitFor } from '@quarry/testing';
import { percentile } from './stats';

const TASKS = Number(process.env.BENCH_TASKS ?? 200);
const QUEUED = Number(process.env.BENCH_QUEUED ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BLOCK = 300;
const SUBMIT_CONCURRENCY = 16;

const median = (values: number[]) => percentile(values, 50);
const fmt = (value: number, digits = 2) => value.toFixed(digits);

interface TaskReply {
  id: string;
  status: string;
  createdAt: string;
  startedAt: string | null;
}

async function main(): Promise<void> {
  const { stack, stop } = await startIsolatedStack('benchtasks', { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' });
  try {
    const key = await stack.createApiKey('default', 'write');
    const headers = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const api = (path: string, init: RequestInit = {}) => fetch(`${stack.gatewayUrl}${path}`, { ...init, headers: { ...headers, ...init.headers } });
    const submit = async (body: Record<string, unknown>): Promise<TaskReply> => {
      const response = await api('/api/tasks', { method: 'POST', body: JSON.stringify(body) });
      if (response.status !== 201) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
      return (await response.json()) as TaskReply;
    };

    console.log(`submit → running: ${TASKS} tasks one at a time on an idle system …`);
    const submitMs: number[] = [];
    const ids: string[] = [];
    for (let index = 0; index < TASKS; index++) {
      const started = performance.now();
      ids.push((await submit({ type: 'diagnostics.wait', params: { seconds: 0 } })).id);
      submitMs.push(performance.now() - started);
    }
    const startDelays: number[] = [];
    for (const id of ids) {
      const task = await waitFor(
        async () => {
          const reply = (await (await api(`/api/tasks/${id}`)).json()) as TaskReply;
          return reply.startedAt ? reply : undefined;
        },
        { timeoutMs: 30_000, description: `task ${id} to start` },
      );
      startDelays.push(new Date(task.startedAt as string).getTime() - new Date(task.createdAt).getTime());
    }
    console.log(
      `  HTTP submit p50 ${fmt(median(submitMs))} ms, p95 ${fmt(percentile(submitMs, 95))} ms; stored → running p50 ${fmt(median(startDelays))} ms, p95 ${fmt(percentile(startDelays, 95))} ms (millisecond clock)`,
    );

    const probeId = ids[0];
    const blocks = async (label: string) => {
      const figures: Record<'task' | 'documents', number[]> = { task: [], documents: [] };
      for (let run = 0; run < RUNS; run++) {
        for (const [name, path] of [
          ['task', `/api/tasks/${probeId}`],
          ['documents', '/api/documents?limit=20'],
        ] as const) {
          const latencies: number[] = [];
          for (let index = 0; index < BLOCK; index++) {
            const started = performance.now();
            const response = await api(path);
            await response.arrayBuffer();
            if (response.status !== 200) throw new Error(`${path} answered ${response.status}`);
            latencies.push(performance.now() - started);
          }
          figures[name].push(median(latencies));
          console.log(`  ${label} block ${run + 1} GET ${path}: p50 ${fmt(median(latencies))} ms, p95 ${fmt(percentile(latencies, 95))} ms`);
        }
      }
      return { task: median(figures.task), documents: median(figures.documents) };
    };

    console.log('API latency, nothing queued (after a warm-up block, so both conditions meet compiled code) …');
    await blocks('warm-up');
    const idle = await blocks('idle');
    console.log(`queueing ${QUEUED} low-priority tasks (${SUBMIT_CONCURRENCY} submitting at once) …`);
    const queueStarted = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: SUBMIT_CONCURRENCY }, async () => {
        while (next < QUEUED) {
          next++;
          await submit({ type: 'diagnostics.wait', params: { seconds: 600 }, priority: 'low', timeoutSeconds: 900 });
        }
      }),
    );
    const queueSeconds = (performance.now() - queueStarted) / 1000;
    const stats = (await (await api('/api/tasks/stats')).json()) as { byStatus: Record<string, number> };
    console.log(`  ${QUEUED} submitted in ${fmt(queueSeconds, 1)} s (${fmt(QUEUED / queueSeconds, 0)}/s); by status ${JSON.stringify(stats.byStatus)}`);
    const loaded = await blocks('queued');

    console.log(`\nmedians of ${RUNS} blocks of ${BLOCK} sequential requests`);
    console.log(`submit → running (idle): HTTP submit p50 ${fmt(median(submitMs))} ms; stored → running p50 ${fmt(median(startDelays))} ms (target ≤ 5 ms)`);
    for (const name of ['task', 'documents'] as const) {
      console.log(`GET ${name === 'task' ? '/api/tasks/{id}' : '/api/documents'}: p50 ${fmt(idle[name])} ms idle, ${fmt(loaded[name])} ms with ${QUEUED} queued (×${fmt(loaded[name] / idle[name])})`);
    }
  } finally {
    await stop();
  }
}

void main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
