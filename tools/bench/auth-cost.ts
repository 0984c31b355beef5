/**
 * `npm run bench:auth` — what authentication costs a request. Three gateways run as real processes
 * (built by `npm run build`) on one Postgres schema and Redis prefix, each serving the same route,
 * GET /api/documents/:id, for the same document:
 *
 * - `proxy`: AUTH_MODE=trusted-header — the tenant comes from a header, nothing is checked: the
 *   floor, the same route without authentication;
 * - `key`: the default mode, a Bearer key, with the per-key rate limit switched off: the cost of
 *   the key check alone (checksum, SHA-256, cache lookup);
 * - `key+limit`: the default mode with the rate limit on (a budget no client reaches): the key
 *   check plus the Redis round trip of the limiter (no per-second cap either).
 *
 * Each run measures every condition in alternating blocks, one client at a time (latency) and
 * BENCH_CONCURRENCY (default 16) clients at once (throughput). Prints each run and the medians
 * over BENCH_RUNS (default 3) runs, as ratios to the floor.
 */
import { createTestRedisPrefix, createTestSchema, freePort, ServiceStack } from '@quarry/testing';
import { percentile } from './stats';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BLOCKS = 4;
const WARMUP = 300;
const TENANT = 'bench-auth';

interface Condition {
  name: 'proxy' | 'key' | 'key+limit';
  url: string;
  headers: Record<string, string>;
  documentId: string;
}

interface Figures {
  p50: number;
  p95: number;
  requestsPerSecond: number;
}

const median = (values: number[]) => percentile(values, 50);

async function read(condition: Condition): Promise<void> {
  const response = await fetch(`${condition.url}/api/documents/${condition.documentId}`, { headers: condition.headers });
  if (response.status !== 200) throw new Error(`${condition.name}: read failed with ${response.status} ${await response.text()}`);
  await response.arrayBuffer();
}

/** `rounds` sequential requests: the latency of each. */
async function sequential(condition: Condition, rounds: number): Promise<number[]> {
  const samples: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const begun = performance.now();
    await read(condition);
    samples.push(performance.now() - begun);
  }
  return samples;
}

/** `rounds` requests from CONCURRENCY closed-loop clients: requests per second. */
async function concurrent(condition: Condition, rounds: number): Promise<number> {
  let left = rounds;
  const begun = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (left-- > 0) await read(condition);
    }),
  );
  return rounds / ((performance.now() - begun) / 1000);
}

async function startGateway(schema: { url: string; schema: string }, redis: { url: string; prefix: string }, env: Record<string, string>): Promise<ServiceStack> {
  const stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix, env: { LOG_LEVEL: 'warn', ...env } });
  stack.ports.set('gateway', await freePort());
  await stack.startService('gateway');
  return stack;
}

async function uploadOne(url: string, headers: Record<string, string>): Promise<string> {
  const form = new FormData();
  form.append('file', new Blob(['# Auth bench\n\nOne small document to read back.\n']), 'auth-bench.md');
  const response = await fetch(`${url}/api/documents`, { method: 'POST', body: form, headers });
  if (response.status !== 202 && response.status !== 200) throw new Error(`upload failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { documentId: string }).documentId;
}

async function measureRun(conditions: Condition[]): Promise<Map<Condition['name'], Figures>> {
  const latencies = new Map(conditions.map((condition) => [condition.name, [] as number[]]));
  const throughputs = new Map(conditions.map((condition) => [condition.name, [] as number[]]));
  const perBlock = Math.ceil(ROUNDS / BLOCKS);
  for (let block = 0; block < BLOCKS; block++) {
    // Alternating order, so a slow stretch of the machine does not land on one condition.
    const order = block % 2 === 0 ? conditions : [...conditions].reverse();
    for (const condition of order) latencies.get(condition.name)?.push(...(await sequential(condition, perBlock)));
    for (const condition of order) throughputs.get(condition.name)?.push(await concurrent(condition, perBlock * 2));
  }
  return new Map(
    conditions.map((condition) => {
      const samples = latencies.get(condition.name) ?? [];
      return [condition.name, { p50: percentile(samples, 50), p95: percentile(samples, 95), requestsPerSecond: median(throughputs.get(condition.name) ?? []) }];
    }),
  );
}

function report(label: string, figures: Map<Condition['name'], Figures>): void {
  const floor = figures.get('proxy') as Figures;
  console.log(label);
  for (const [name, value] of figures) {
    console.log(
      `  ${name.padEnd(10)} p50 ${value.p50.toFixed(3)} ms (×${(value.p50 / floor.p50).toFixed(3)})  p95 ${value.p95.toFixed(3)} ms (×${(value.p95 / floor.p95).toFixed(3)})` +
        `  ${value.requestsPerSecond.toFixed(0)} req/s at ${CONCURRENCY} (×${(value.requestsPerSecond / floor.requestsPerSecond).toFixed(3)})`,
    );
  }
}

async function main(): Promise<void> {
  const schema = await createTestSchema('bench-auth');
  const redis = createTestRedisPrefix('bench-auth');
  const stacks: ServiceStack[] = [];
  try {
    const proxy = await startGateway(schema, redis, { AUTH_MODE: 'trusted-header', AUTH_TRUSTED_ROLE: 'write', RATE_LIMIT_PER_MINUTE: '0' });
    const keyOnly = await startGateway(schema, redis, { RATE_LIMIT_PER_MINUTE: '0' });
    const keyAndLimit = await startGateway(schema, redis, { RATE_LIMIT_PER_MINUTE: '100000000', RATE_LIMIT_BURST: '0' });
    stacks.push(proxy, keyOnly, keyAndLimit);
    const key = { authorization: `Bearer ${await proxy.createApiKey(TENANT, 'write')}` };
    const documentId = await uploadOne(proxy.gatewayUrl, { 'x-tenant-id': TENANT });
    const conditions: Condition[] = [
      { name: 'proxy', url: proxy.gatewayUrl, headers: { 'x-tenant-id': TENANT }, documentId },
      { name: 'key', url: keyOnly.gatewayUrl, headers: key, documentId },
      { name: 'key+limit', url: keyAndLimit.gatewayUrl, headers: key, documentId },
    ];
    for (const condition of conditions) await sequential(condition, WARMUP);

    const runs: Array<Map<Condition['name'], Figures>> = [];
    for (let run = 1; run <= RUNS; run++) {
      const figures = await measureRun(conditions);
      runs.push(figures);
      report(`run ${run}`, figures);
    }
    const medians = new Map(
      conditions.map(({ name }) => {
        const of = (pick: (figures: Figures) => number) => median(runs.map((run) => pick(run.get(name) as Figures)));
        return [name, { p50: of((f) => f.p50), p95: of((f) => f.p95), requestsPerSecond: of((f) => f.requestsPerSecond) }];
      }),
    );
    report(`medians of ${RUNS} runs (GET /api/documents/:id, ${ROUNDS} sequential and ${ROUNDS * 2} concurrent requests per condition and run)`, medians);
    // Each run's ratio to its own floor, then the median: the machine's drift between runs cancels out.
    console.log('median of the runs\' ratios to their own floor:');
    for (const { name } of conditions.filter((condition) => condition.name !== 'proxy')) {
      const ratio = (pick: (figures: Figures) => number) => median(runs.map((run) => pick(run.get(name) as Figures) / pick(run.get('proxy') as Figures))).toFixed(3);
      const extraMs = median(runs.map((run) => (run.get(name) as Figures).p50 - (run.get('proxy') as Figures).p50)).toFixed(3);
      console.log(`  ${name.padEnd(10)} p50 ×${ratio((f) => f.p50)} (${extraMs} ms)  p95 ×${ratio((f) => f.p95)}  throughput ×${ratio((f) => f.requestsPerSecond)}`);
    }
  } finally {
    for (const stack of stacks) await stack.stop();
    await redis.cleanup();
    await schema.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
