/**
 * `npm run bench:sse` — what open progress streams cost the gateway's other requests. The gateway
 * runs alone as a real process (built by `npm run build`) on its own Postgres schema and Redis
 * prefix; no ingestion service runs, so every uploaded document stays queued and its stream idle.
 *
 * Each run measures GET /api/documents/:id in a closed loop (one request at a time) with no stream
 * open — the floor, measured in the same run — and with BENCH_STREAMS (default 1,000) idle streams
 * open (spread over tenants so the per-tenant cap allows them; held by a child process, as other
 * clients would), in alternating blocks, BENCH_ROUNDS (default 4,000) requests per condition.
 * Also the gateway's CPU (from its /metrics) while it serves no request, without and with the
 * streams. Prints each run and the medians over BENCH_RUNS (default 3) runs. Target: ratio ≤ 1.10.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import { createTestRedisPrefix, createTestSchema, freePort, ServiceStack, waitFor } from '@quarry/testing';
import { percentile } from './stats';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 1000);
const STREAMS_PER_TENANT = 50;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WARMUP = 200;
const TARGET_RATIO = 1.1;
const RESTING_MS = 3000;
const SETTLE_MS = 1000;
const BLOCKS = 4;

interface Phase {
  p50: number;
  p95: number;
}

interface Run {
  without: Phase;
  streams: Phase;
  /** Gateway CPU (share of a core) with no request at all, without and with the streams open. */
  restingCpu: number;
  restingCpuWithStreams: number;
}

const median = (values: number[]) => percentile(values, 50);
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

async function upload(gatewayUrl: string, tenant: string, name: string): Promise<{ documentId: string; jobId: string }> {
  const form = new FormData();
  form.append('file', new Blob([`# ${name}\n\nA document whose progress stream stays idle (${tenant}).\n`]), `${name}.md`);
  const response = await fetch(`${gatewayUrl}/api/documents`, { method: 'POST', body: form, headers: { 'x-tenant-id': tenant } });
  if (response.status !== 202) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return (await response.json()) as { documentId: string; jobId: string };
}

/** One unlabelled-or-service-labelled series of the gateway's /metrics. */
async function gatewayMetric(gatewayUrl: string, name: string): Promise<number> {
  const metrics = await (await fetch(`${gatewayUrl}/metrics`)).text();
  return Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([\\d.e+-]+)$`, 'm').exec(metrics)?.[1] ?? Number.NaN);
}

const gatewayCpuSeconds = (gatewayUrl: string) => gatewayMetric(gatewayUrl, 'process_cpu_seconds_total');

/** `rounds` sequential reads of one document: the latency of each. */
async function sample(gatewayUrl: string, documentId: string, rounds: number): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const begun = performance.now();
    const response = await fetch(`${gatewayUrl}/api/documents/${documentId}`, { headers: { 'x-tenant-id': 'probe' } });
    if (response.status !== 200) throw new Error(`read failed: ${response.status}`);
    await response.arrayBuffer();
    samples.push(performance.now() - begun);
  }
  return samples;
}

const phase = (samples: number[]): Phase => ({ p50: percentile(samples, 50), p95: percentile(samples, 95) });

const settle = () => new Promise((resolve) => setTimeout(resolve, SETTLE_MS));

/** The gateway's CPU use (share of a core) over a few seconds in which nobody sends it a request. */
async function restingCpu(gatewayUrl: string): Promise<number> {
  const before = await gatewayCpuSeconds(gatewayUrl);
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, RESTING_MS));
  return ((await gatewayCpuSeconds(gatewayUrl)) - before) / ((performance.now() - started) / 1000);
}

/** The idle streams live in a child process, so their sockets and heartbeats do not slow the measuring loop. */
class StreamHolder {
  private constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<StreamHolder> {
    const child = fork(join(__dirname, 'sse-stream-holder.js'));
    const holder = new StreamHolder(child);
    await holder.reply('ready');
    return holder;
  }

  async open(gatewayUrl: string, jobs: Array<{ tenant: string; jobId: string }>): Promise<void> {
    this.child.send({ open: { gatewayUrl, jobs } });
    await this.reply('opened');
  }

  async close(): Promise<void> {
    this.child.send({ close: true });
    await this.reply('closed');
  }

  stop(): void {
    this.child.kill();
  }

  private reply(key: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: Record<string, unknown>) => {
        if (!(key in message)) return;
        this.child.off('message', onMessage);
        this.child.off('exit', onExit);
        resolve(message[key]);
      };
      const onExit = (code: number | null) => reject(new Error(`the stream holder exited with code ${code}`));
      this.child.on('message', onMessage);
      this.child.once('exit', onExit);
    });
  }
}

async function main(): Promise<void> {
  const schema = await createTestSchema('bench-sse');
  const redis = createTestRedisPrefix('bench-sse');
  // SSE_POLL_MS in the bench's environment reaches the gateway (to weigh freshness against cost).
  const pollMs = process.env.SSE_POLL_MS ?? '250';
  // Tenants named in x-tenant-id, as behind an authenticating proxy: the streams' cost is measured, not the keys'.
  const env = { LOG_LEVEL: 'warn', SSE_POLL_MS: pollMs, AUTH_MODE: 'trusted-header', AUTH_TRUSTED_ROLE: 'write' };
  const stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix, env });
  let holder: StreamHolder | undefined;
  try {
    holder = await StreamHolder.start();
    stack.ports.set('gateway', await freePort());
    await stack.startService('gateway');
    const gatewayUrl = stack.gatewayUrl;

    console.log(`uploading ${STREAMS} documents over ${Math.ceil(STREAMS / STREAMS_PER_TENANT)} tenants (no ingestion runs: they stay queued) …`);
    const probe = await upload(gatewayUrl, 'probe', 'probe');
    const jobs: Array<{ tenant: string; jobId: string }> = [];
    for (let start = 0; start < STREAMS; start += 10) {
      const batch = Array.from({ length: Math.min(10, STREAMS - start) }, (_, offset) => start + offset);
      const uploaded = await Promise.all(
        batch.map(async (index) => {
          const tenant = `bench-${Math.floor(index / STREAMS_PER_TENANT)}`;
          return { tenant, jobId: (await upload(gatewayUrl, tenant, `doc-${index}`)).jobId };
        }),
      );
      jobs.push(...uploaded);
    }

    const runs: Run[] = [];
    const pct = (share: number) => `${(share * 100).toFixed(1)}%`;
    await sample(gatewayUrl, probe.documentId, WARMUP);
    for (let run = 1; run <= RUNS; run++) {
      // Without and with the streams in alternating blocks, each after the same pause, so that the
      // machine's drift (other processes) falls on both alike.
      const without: number[] = [];
      const withStreams: number[] = [];
      let resting = 0;
      let restingWithStreams = 0;
      for (let block = 0; block < BLOCKS; block++) {
        await settle();
        without.push(...(await sample(gatewayUrl, probe.documentId, ROUNDS / BLOCKS)));
        if (block === 0) resting = await restingCpu(gatewayUrl);
        const handlesBefore = await gatewayMetric(gatewayUrl, 'nodejs_active_handles_total');
        await holder.open(gatewayUrl, jobs);
        await settle();
        withStreams.push(...(await sample(gatewayUrl, probe.documentId, ROUNDS / BLOCKS)));
        if (block === 0) restingWithStreams = await restingCpu(gatewayUrl);
        await holder.close();
        // The gateway has let go of the streams when its sockets are gone again.
        await waitFor(async () => (await gatewayMetric(gatewayUrl, 'nodejs_active_handles_total')) <= handlesBefore + 10, {
          timeoutMs: 15_000,
          intervalMs: 200,
          description: 'the gateway to close the streams',
        });
      }
      const before = phase(without);
      const loaded = phase(withStreams);
      runs.push({ without: before, streams: loaded, restingCpu: resting, restingCpuWithStreams: restingWithStreams });
      console.log(
        `run ${run}: no streams p50 ${fmt(before.p50)} p95 ${fmt(before.p95)} | ${STREAMS} streams p50 ${fmt(loaded.p50)} p95 ${fmt(loaded.p95)} | ` +
          `ratio p50 ${(loaded.p50 / before.p50).toFixed(3)} p95 ${(loaded.p95 / before.p95).toFixed(3)} | ` +
          `resting gateway CPU ${pct(resting)} → ${pct(restingWithStreams)} with the streams`,
      );
    }

    const ratioP50 = median(runs.map((run) => run.streams.p50 / run.without.p50));
    const ratioP95 = median(runs.map((run) => run.streams.p95 / run.without.p95));
    console.log(
      `\nGET /api/documents/:id, closed loop, ${ROUNDS} requests per condition and run (${BLOCKS} alternating blocks), SSE_POLL_MS ${pollMs}; medians of ${RUNS} runs:`,
    );
    console.log(`  no streams            p50 ${fmt(median(runs.map((run) => run.without.p50)))}  p95 ${fmt(median(runs.map((run) => run.without.p95)))}`);
    console.log(`  ${String(STREAMS).padEnd(5)} idle streams    p50 ${fmt(median(runs.map((run) => run.streams.p50)))}  p95 ${fmt(median(runs.map((run) => run.streams.p95)))}`);
    console.log(`  ratio                 p50 ${ratioP50.toFixed(3)}  p95 ${ratioP95.toFixed(3)}  (target ≤ ${TARGET_RATIO}: p50 ${ratioP50 <= TARGET_RATIO ? 'met' : 'NOT met'}, p95 ${ratioP95 <= TARGET_RATIO ? 'met' : 'NOT met'})`);
    console.log(
      `  resting gateway CPU   ${pct(median(runs.map((run) => run.restingCpu)))} without streams, ${pct(median(runs.map((run) => run.restingCpuWithStreams)))} with ${STREAMS} idle streams open`,
    );
  } finally {
    holder?.stop();
    await stack.stop();
    await redis.cleanup();
    await schema.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
