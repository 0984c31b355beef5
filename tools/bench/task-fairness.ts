/**
 * npm run bench:fairness (second part) — one tenant's 100 tasks must not hold another tenant's
 * single task behind them (issue 12). The five services as processes on the local Postgres and
 * Redis, WORKER_CONCURRENCY 4 on the task-scheduler.
 *
 * Per run (BENCH_RUNS, 3), a fresh pair of tenants: A submits BENCH_TASK_BATCH (100)
 * `diagnostics.wait {seconds: 0.5}` tasks, then B submits one. Measured: B's stored → running
 * (`startedAt − createdAt`, Postgres' clock), how many of A's tasks started before B's, and — for
 * comparison — what B would wait served in submission order (A's tasks not yet started when B's
 * was stored, × 0.5 s ÷ the 4 runs at a time). Prints each run and the medians.
 */
import { startIsolatedStack, waitFor } from '@quarry/testing';
import { percentile } from './stats';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BATCH = Number(process.env.BENCH_TASK_BATCH ?? 100);
const CONCURRENCY = 4;
const TASK_SECONDS = 0.5;

interface TaskReply {
  id: string;
  createdAt: string;
  startedAt: string | null;
}

const median = (values: number[]) => percentile(values, 50);

async function main(): Promise<void> {
  const { stack, stop } = await startIsolatedStack('benchtaskfair', { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0', WORKER_CONCURRENCY: String(CONCURRENCY) });
  try {
    const waits: number[] = [];
    const fifoWaits: number[] = [];
    const startedBefore: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const headersOf = async (tenant: string) => ({ authorization: `Bearer ${await stack.createApiKey(tenant, 'write')}`, 'content-type': 'application/json' });
      const [a, b] = [await headersOf(`tasks-a-${run}`), await headersOf(`tasks-b-${run}`)];
      const submit = async (headers: Record<string, string>): Promise<TaskReply> => {
        const response = await fetch(`${stack.gatewayUrl}/api/tasks`, { method: 'POST', headers, body: JSON.stringify({ type: 'diagnostics.wait', params: { seconds: TASK_SECONDS } }) });
        if (response.status !== 201) throw new Error(`submit answered ${response.status}: ${await response.text()}`);
        return (await response.json()) as TaskReply;
      };
      const batch: TaskReply[] = [];
      for (let offset = 0; offset < BATCH; offset += 16) batch.push(...(await Promise.all(Array.from({ length: Math.min(16, BATCH - offset) }, () => submit(a)))));
      const single = await submit(b);
      const read = (headers: Record<string, string>, id: string) => fetch(`${stack.gatewayUrl}/api/tasks/${id}`, { headers }).then((response) => response.json() as Promise<TaskReply>);
      const started = await waitFor(async () => {
        const task = await read(b, single.id);
        return task.startedAt ? task : undefined;
      }, { timeoutMs: 120_000, intervalMs: 20, description: "B's task to start" });
      const startedAt = new Date(started.startedAt as string).getTime();
      const createdAt = new Date(started.createdAt).getTime();
      // A's tasks as they stand now: which had started before B's was stored, and before B's started.
      const states = await Promise.all(batch.map((task) => read(a, task.id)));
      const notStartedWhenStored = states.filter((task) => !task.startedAt || new Date(task.startedAt).getTime() > createdAt).length;
      const before = states.filter((task) => task.startedAt && new Date(task.startedAt).getTime() < startedAt).length;
      waits.push(startedAt - createdAt);
      fifoWaits.push((notStartedWhenStored * TASK_SECONDS * 1000) / CONCURRENCY);
      startedBefore.push(before);
      console.log(`run ${run}: B's task stored → running ${startedAt - createdAt} ms; ${before} of A's ${BATCH} started before it; in submission order it would wait ≈ ${Math.round(fifoWaits.at(-1) as number)} ms (${notStartedWhenStored} of A's not started when it was stored)`);
      // Let A's batch drain before the next run.
      await waitFor(async () => (await Promise.all(batch.slice(-4).map((task) => read(a, task.id)))).every((task) => task.startedAt), { timeoutMs: 120_000, intervalMs: 250, description: "A's batch to drain" });
    }
    console.log(`\nmedians of ${RUNS} runs: B's task stored → running ${Math.round(median(waits))} ms (in submission order ≈ ${Math.round(median(fifoWaits))} ms); A's tasks started before it: ${median(startedBefore)}`);
  } finally {
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
