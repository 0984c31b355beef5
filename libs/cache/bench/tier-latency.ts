/**
 * npm run bench:cache — get and set latency of each cache tier through TieredCache, against a floor
 * measured next to it in the same run: a bare Map get (L1), a raw ioredis GET of a value of the same
 * size (L2), a raw pg `SELECT 1` on the same pool (L3).
 * p50/p95/p99 over N operations (default 20 000) per run, small and ~14 KB values, the median of 3
 * runs. Also the L2 codec: JSON against MessagePack. Uses the local Postgres and Redis (a schema and
 * key prefix of its own, removed afterwards).
 *
 *   node dist/libs/cache/bench/tier-latency.js [operations]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import Redis from 'ioredis';
import { Packr } from 'msgpackr';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import { type CacheHandle, type CacheTierName, TieredCache } from '../src';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const OPERATIONS = Number(process.argv[2] ?? 20_000);
const RUNS = 3;
const KEYS = 1000;
const TARGET_P50_MS: Record<CacheTierName, number> = { memory: 0.01, redis: 0.5, postgres: 2 };

const out = (line: string) => process.stdout.write(`${line}\n`);

interface Figures {
  p50: number;
  p95: number;
  p99: number;
}

function percentiles(samples: Float64Array): Figures {
  const sorted = samples.slice().sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** The median, per percentile, of RUNS runs of `operations` timed calls (after a warm-up). */
async function measure(operations: number, operation: (index: number) => unknown): Promise<Figures> {
  const runs: Figures[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (let index = 0; index < Math.min(2000, operations); index++) await operation(index);
    const samples = new Float64Array(operations);
    for (let index = 0; index < operations; index++) {
      const started = performance.now();
      await operation(index);
      samples[index] = performance.now() - started;
    }
    runs.push(percentiles(samples));
  }
  const median = (pick: (figures: Figures) => number) => runs.map(pick).sort((a, b) => a - b)[Math.floor(RUNS / 2)];
  return { p50: median((f) => f.p50), p95: median((f) => f.p95), p99: median((f) => f.p99) };
}

function row(label: string, figures: Figures, floor?: Figures, target?: number): string {
  const us = (ms: number) => `${(ms * 1000).toFixed(1).padStart(8)} µs`;
  const versus = floor ? `  ×${(figures.p50 / floor.p50).toFixed(1).padStart(5)} floor p50` : '';
  const verdict = target === undefined ? '' : figures.p50 <= target ? `  ✓ ≤ ${target * 1000} µs` : `  ✗ > ${target * 1000} µs`;
  return `${label.padEnd(34)} p50 ${us(figures.p50)}  p95 ${us(figures.p95)}  p99 ${us(figures.p99)}${versus}${verdict}`;
}

function values(): Array<{ label: string; value: unknown }> {
  const small = { answer: 'Refunds within 30 days.', score: 0.93, ids: ['c1', 'c2', 'c3'] };
  const large = {
    chunks: Array.from({ length: 40 }, (_, index) => ({ id: `chunk-${index}`, text: 'Lorem ipsum dolor sit amet, consectetur adip. '.repeat(7), score: index / 40 })),
  };
  return [
    { label: `small (${Buffer.byteLength(JSON.stringify(small))} B)`, value: small },
    { label: `large (${(Buffer.byteLength(JSON.stringify(large)) / 1024).toFixed(1)} KB)`, value: large },
  ];
}

function codecs(): void {
  const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true });
  const vector = { vector: Array.from({ length: 768 }, (_, index) => Math.sin(index) * 0.5) };
  out('\nL2 codec, encode + decode (mean of 5000), bytes');
  for (const { label, value } of [...values(), { label: 'embedding (768 floats)', value: vector }]) {
    const time = (fn: () => unknown) => {
      for (let index = 0; index < 500; index++) fn();
      const started = performance.now();
      for (let index = 0; index < 5000; index++) fn();
      return ((performance.now() - started) / 5000) * 1000;
    };
    const json = Buffer.from(JSON.stringify(value));
    const packed = packr.pack(value);
    const jsonUs = time(() => JSON.parse(Buffer.from(JSON.stringify(value)).toString('utf8')));
    const packUs = time(() => packr.unpack(packr.pack(value)));
    out(`${label.padEnd(34)} JSON ${String(json.length).padStart(6)} B ${jsonUs.toFixed(1).padStart(7)} µs   msgpack ${String(packed.length).padStart(6)} B ${packUs.toFixed(1).padStart(7)} µs`);
  }
}

async function main(): Promise<void> {
  const schema = `bench_cache_${randomBytes(4).toString('hex')}`;
  const prefix = `bench-cache-${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: DATABASE_URL });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const dataSource = await createDataSource({ url: DATABASE_URL, schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'bench-cache' }).initialize();
  const redis = new Redis(REDIS_URL);
  const cache = new TieredCache({
    service: 'bench',
    redis: { url: REDIS_URL, prefix },
    dataSource,
    memoryMaxBytes: 256 << 20,
    registry: new Registry(),
    logger: { warn: (msg, meta) => out(`warn: ${msg} ${JSON.stringify(meta)}`), info: () => undefined, error: (msg, meta) => out(`error: ${msg} ${JSON.stringify(meta)}`) },
  });
  try {
    await runMigrationsExclusively(dataSource);
    if (!(await cache.ready())) throw new Error(`Redis at ${REDIS_URL} is not ready`);
    out(`cache tier latency: ${OPERATIONS} operations per run, median of ${RUNS} runs, ${KEYS} keys; node ${process.version}; load average ${loadavg()[0].toFixed(2)}`);

    // Floors, measured again next to each tier (the machine is shared: load moves within a run).
    const map = new Map<string, unknown>();
    const pool = (dataSource.driver as unknown as { master: { query(sql: string): Promise<unknown> } }).master;
    for (const { label, value } of values()) {
      for (let index = 0; index < KEYS; index++) map.set(`k${index}`, value);
      await redis.set(`${prefix}:floor`, Buffer.from(JSON.stringify(value)));
      const floor: Record<CacheTierName, { label: string; run: (index: number) => unknown }> = {
        memory: { label: 'floor Map.get', run: (index) => map.get(`k${index % KEYS}`) },
        redis: { label: 'floor ioredis GET (same size)', run: () => redis.getBuffer(`${prefix}:floor`) },
        postgres: { label: 'floor pg SELECT 1 (pool)', run: () => pool.query('SELECT 1') },
      };
      out(`\n${label}`);
      for (const tier of ['memory', 'redis', 'postgres'] as CacheTierName[]) {
        const name = `${tier}-${label.split(' ')[0]}`;
        const handle: CacheHandle<unknown> = cache.kind<unknown>({ name, tiers: [tier], ttlMs: { memory: 3_600_000, redis: 3_600_000, postgres: 3_600_000 } });
        const operations = tier === 'memory' ? OPERATIONS * 5 : OPERATIONS;
        const set = await measure(operations, (index) => handle.set(`k${index % KEYS}`, value));
        const floorFigures = await measure(operations, floor[tier].run);
        const get = await measure(operations, (index) => handle.get(`k${index % KEYS}`));
        out(row(floor[tier].label, floorFigures));
        out(row(`${tier} get`, get, floorFigures, TARGET_P50_MS[tier]));
        out(row(`${tier} set`, set, floorFigures));
      }
    }
    const report = await cache.stats();
    const errors = report.kinds.reduce((sum, kind) => sum + kind.tiers.reduce((tierSum, tier) => tierSum + tier.errors + tier.skipped + tier.writes.error + tier.writes.skipped, 0), 0);
    out(`\nload average ${loadavg()[0].toFixed(2)}; tier errors or skips during the run: ${errors}; health: ${report.health.map((entry) => `${entry.tier}=${entry.state}`).join(' ')}`);
    codecs();
  } finally {
    await cache.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
    await dataSource.destroy();
    await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
    await admin.end();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
