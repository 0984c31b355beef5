import { createDataSource } from '@quarry/persistence';
import { PrivatePostgres, PrivateRedis, createTestRedisPrefix, freePort, waitFor } from '@quarry/testing';
import Redis from 'ioredis';
import { Client } from 'pg';
import { Registry } from 'prom-client';
import { TieredCache, type CacheTierName, type TierState } from '../src';
import { RecordingLogger, metricValue, openDataSource } from './cache-fixture';

const state = (cache: TieredCache, tier: CacheTierName): TierState | undefined => cache.health().find((entry) => entry.tier === tier)?.state;
const breaker = { failures: 3, openMs: 200, maxOpenMs: 400 };

describe('degradation: a tier that fails is skipped, never the caller', () => {
  describe('Redis killed and restarted', () => {
    let server: PrivateRedis;
    const caches: TieredCache[] = [];
    const prefix = createTestRedisPrefix('cachedegrade').prefix;

    beforeAll(async () => {
      server = await PrivateRedis.start();
    });

    afterAll(async () => {
      for (const cache of caches) await cache.close();
      await server?.stop();
    });

    const open = async (registry = new Registry(), logger = new RecordingLogger()) => {
      const cache = new TieredCache({ service: 'cache-test', redis: { url: server.url, prefix }, memoryMaxBytes: 1 << 20, registry, logger, breaker });
      caches.push(cache);
      expect(await cache.ready()).toBe(true);
      return cache;
    };
    const kind = { name: 'answers', tiers: ['memory', 'redis'] as CacheTierName[], ttlMs: { memory: 60_000, redis: 60_000 }, dropL1OnResubscribe: true };

    it('serves from L1, computes, reports redis down and counts it; uses L2 again once Redis is back, without a restart', async () => {
      const registry = new Registry();
      const logger = new RecordingLogger();
      const cache = await open(registry, logger);
      const answers = cache.kind<string>(kind);
      const untouched = cache.kind<string>({ ...kind, name: 'kept', dropL1OnResubscribe: false });
      await answers.set('before', 'from before the outage');
      await untouched.set('before', 'kept through the outage');
      expect(state(cache, 'redis')).toBe('up');

      await server.kill();
      await waitFor(() => state(cache, 'redis') === 'down', { timeoutMs: 5000, intervalMs: 10, description: 'redis to be reported down' });
      const started = Date.now();
      expect(await answers.get('before')).toBe('from before the outage');
      await answers.set('during', 'written during the outage');
      expect(await answers.get('during')).toBe('written during the outage');
      expect(await answers.get('absent')).toBeUndefined();
      let computes = 0;
      expect(await answers.getOrCompute('computed', () => Promise.resolve(`computed ${++computes}`))).toBe('computed 1');
      await answers.delete('during');
      expect(await answers.get('during')).toBeUndefined();
      // Nothing waited on the dead Redis.
      expect(Date.now() - started).toBeLessThan(500);

      const health = cache.health().find((entry) => entry.tier === 'redis');
      expect(health).toMatchObject({ state: 'down' });
      expect(health?.lastError).toBeTruthy();
      expect(health?.since).toBeTruthy();
      expect(await metricValue(registry, 'quarry_cache_tier_up', { tier: 'redis' })).toBe(0);
      expect(await metricValue(registry, 'quarry_cache_requests_total', { kind: 'answers', tier: 'redis', outcome: 'skipped' })).toBeGreaterThanOrEqual(2);
      expect(await metricValue(registry, 'quarry_cache_writes_total', { kind: 'answers', tier: 'redis', outcome: 'skipped' })).toBeGreaterThanOrEqual(2);
      expect(logger.lines.some((line) => line.level === 'warn' && line.msg === 'cache tier redis is down')).toBe(true);

      await server.restart(); // comes back empty (no append-only file)
      await waitFor(() => state(cache, 'redis') === 'up', { timeoutMs: 10_000, intervalMs: 20, description: 'redis to be up again' });
      expect(await metricValue(registry, 'quarry_cache_tier_up', { tier: 'redis' })).toBe(1);
      // The drop subscription is back, and drops sent meanwhile may have been lost: the opted-in kind's L1 is cleared, the other's is not.
      await waitFor(async () => (await answers.get('before')) === undefined, { timeoutMs: 10_000, intervalMs: 20, description: 'L1 of the opted-in kind to be cleared' });
      expect(await untouched.get('before')).toBe('kept through the outage');

      await answers.set('after', 'written after the outage');
      const direct = new Redis(server.url);
      try {
        expect(await direct.exists(`${prefix}:cache:answers:after`)).toBe(1);
      } finally {
        direct.disconnect();
      }
      const replica = (await open()).kind<string>(kind);
      expect(await replica.get('after')).toBe('written after the outage');
    });

    it('skips a Redis that answers past its deadline, marks it degraded then down, and probes it back up', async () => {
      const registry = new Registry();
      const cache = new TieredCache({
        service: 'cache-test',
        redis: { url: server.url, prefix },
        memoryMaxBytes: 1 << 20,
        registry,
        logger: new RecordingLogger(),
        breaker,
        tierTimeoutMs: { redis: 30 },
      });
      caches.push(cache);
      await cache.ready();
      const remote = cache.kind<string>({ name: 'slow', tiers: ['redis'], ttlMs: { redis: 60_000 } });
      await remote.set('k', 'v');
      // A Lua script that spins for 1.5 s: Redis answers nobody meanwhile (a hung server).
      const blocker = new Redis(server.url);
      await blocker.ping(); // connected, so the script reaches Redis before the cache's next command
      const spin = blocker.eval(
        `local s = redis.call('TIME') while true do local n = redis.call('TIME') if (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > 1500000 then break end end return 1`,
        0,
      );
      try {
        const started = Date.now();
        expect(await remote.get('k')).toBeUndefined();
        expect(Date.now() - started).toBeLessThan(500);
        expect(state(cache, 'redis')).toBe('degraded');
        for (let index = 0; index < 5; index++) expect(await remote.get('k')).toBeUndefined();
        expect(state(cache, 'redis')).toBe('down');
        const stats = (await cache.stats()).kinds[0].tiers[0];
        expect(stats.errors).toBe(3);
        expect(stats.skipped).toBe(3);
        await spin;
        // After the backoff, one probe finds it healthy again.
        await waitFor(async () => (await remote.get('k')) === 'v', { timeoutMs: 5000, intervalMs: 50, description: 'redis to be used again' });
        expect(state(cache, 'redis')).not.toBe('down');
      } finally {
        blocker.disconnect();
      }
    });
  });

  describe('Postgres stopped and started', () => {
    let server: PrivatePostgres;
    let cache: TieredCache;
    const registry = new Registry();

    beforeAll(async () => {
      server = await PrivatePostgres.start();
    });

    afterAll(async () => {
      await cache?.close();
      await server?.destroy();
    });

    it('skips L3 while Postgres is down (memory still serves, getOrCompute computes), and uses it again once it is back', async () => {
      const dataSource = await openDataSource(server.url, 'public');
      try {
        cache = new TieredCache({ service: 'cache-test', dataSource, memoryMaxBytes: 1 << 20, registry, logger: new RecordingLogger(), breaker, tierTimeoutMs: { postgres: 300 } });
        const chunks = cache.kind<string>({ name: 'chunks', tiers: ['memory', 'postgres'], ttlMs: { postgres: 60_000 } });
        await chunks.set('held', 'in memory and in postgres');
        // A crash stop: what set() wrote is committed (synchronously), so it is still there afterwards.
        await server.stopServer('immediate');

        const started = Date.now();
        expect(await chunks.get('held')).toBe('in memory and in postgres');
        for (let index = 0; index < 5; index++) expect(await chunks.get(`absent-${index}`)).toBeUndefined();
        await chunks.set('during', 'only in memory');
        expect(await chunks.getOrCompute('computed', () => Promise.resolve('computed'))).toBe('computed');
        expect(Date.now() - started).toBeLessThan(3000);
        expect(state(cache, 'postgres')).toBe('down');
        expect(await metricValue(registry, 'quarry_cache_tier_up', { tier: 'postgres' })).toBe(0);
        const l3 = (await cache.stats()).kinds[0].tiers.find((tier) => tier.tier === 'postgres');
        expect(l3?.errors).toBe(3);
        expect(l3?.skipped).toBeGreaterThanOrEqual(3);

        await server.startServer();
        await waitFor(async () => (await chunks.get('absent-again')) === undefined && state(cache, 'postgres') === 'up', {
          timeoutMs: 15_000,
          intervalMs: 100,
          description: 'postgres to be used again',
        });
        await chunks.set('after', 'in postgres again');
        const client = new Client({ connectionString: server.url });
        await client.connect();
        try {
          const { rows } = await client.query(`SELECT key FROM cache_entries WHERE kind = 'chunks' ORDER BY key`);
          expect(rows.map((row: { key: string }) => row.key)).toEqual(expect.arrayContaining(['after', 'held']));
        } finally {
          await client.end();
        }
      } finally {
        await cache?.close();
        await dataSource.destroy().catch(() => undefined);
      }
    });
  });

  it('skips a Postgres that was never reachable (a DataSource on a wrong port), quickly', async () => {
    const port = await freePort();
    const dataSource = createDataSource({ url: `postgres://postgres@127.0.0.1:${port}/nowhere`, schema: 'public', poolMax: 2, statementTimeoutMs: 1000, applicationName: 'cache-test' });
    await expect(dataSource.initialize()).rejects.toThrow();
    const cache = new TieredCache({ service: 'cache-test', dataSource, memoryMaxBytes: 1 << 20, registry: new Registry(), logger: new RecordingLogger(), breaker });
    try {
      const handle = cache.kind<number>({ name: 'n', tiers: ['memory', 'postgres'], ttlMs: { postgres: 1000 } });
      await handle.set('a', 1);
      expect(await handle.get('a')).toBe(1);
      for (let index = 0; index < 4; index++) expect(await handle.get(`b${index}`)).toBeUndefined();
      expect(await handle.getOrCompute('c', () => Promise.resolve(3))).toBe(3);
      expect(await handle.warm([{ key: 'd', value: 4 }])).toBe(0);
      expect(state(cache, 'postgres')).toBe('down');
      expect(await cache.purgeExpired().catch((error: Error) => error.message)).toMatch(/not initialized/);
    } finally {
      await cache.close();
    }
  });
});
