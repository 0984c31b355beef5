import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import type { CacheKindOptions } from '../src';
import { CacheFixture } from './cache-fixture';

describe('getOrCompute stampede protection', () => {
  let fixture: CacheFixture;
  let redis: Redis;

  beforeAll(async () => {
    fixture = await CacheFixture.start('cachestampede');
    redis = new Redis(fixture.redis.url);
  });

  afterAll(async () => {
    redis?.disconnect();
    await fixture?.close();
  });

  const options = (name: string, lock?: CacheKindOptions<string>['lock']): CacheKindOptions<string> => ({
    name,
    tiers: ['memory', 'redis', 'postgres'],
    ttlMs: { memory: 60_000, redis: 60_000, postgres: 60_000 },
    lock,
  });

  it('computes once for 100 concurrent callers in one process', async () => {
    const { cache } = await fixture.cache();
    const answers = cache.kind(options('one-process'));
    let computes = 0;
    const compute = async () => {
      computes++;
      await sleep(100);
      return 'answer';
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => answers.getOrCompute('q', compute)));
    expect(results).toEqual(Array.from({ length: 100 }, () => 'answer'));
    expect(computes).toBe(1);
    const stats = (await cache.stats()).kinds.find((kind) => kind.kind === 'one-process');
    expect(stats?.stampedeWaits).toBe(99);
    expect(stats?.computes).toBe(1);
    // The 99 joined the first caller's work in process: one lookup went below L1, one lock was taken.
    expect(stats?.tiers.find((tier) => tier.tier === 'redis')?.requests).toBe(1);
    expect(stats?.tiers.find((tier) => tier.tier === 'memory')?.requests).toBe(1);
    // Stored everywhere; the next call is an L1 hit and computes nothing.
    expect(await answers.getOrCompute('q', compute)).toBe('answer');
    expect(computes).toBe(1);
    expect(await redis.exists(`${fixture.redis.prefix}:cache:one-process:q`)).toBe(1);
  });

  it('computes once per process without Redis too (the in-flight map alone)', async () => {
    const { cache } = await fixture.cache({ redis: undefined, dataSource: undefined });
    const local = cache.kind<string>({ name: 'local-only', tiers: ['memory', 'redis'], ttlMs: { redis: 1000 } });
    let computes = 0;
    const results = await Promise.all(
      Array.from({ length: 100 }, () =>
        local.getOrCompute('q', async () => {
          computes++;
          await sleep(50);
          return 'local';
        }),
      ),
    );
    expect(new Set(results)).toEqual(new Set(['local']));
    expect(computes).toBe(1);
  });

  it('computes once across two replicas: the second waits behind the first one’s Redis lock and reads L2', async () => {
    const one = await fixture.cache();
    const two = await fixture.cache();
    const handles = [one.cache.kind(options('two-replicas')), two.cache.kind(options('two-replicas'))];
    let computes = 0;
    const compute = async () => {
      computes++;
      await sleep(300);
      return 'shared answer';
    };
    const results = await Promise.all(Array.from({ length: 40 }, (_, index) => handles[index % 2].getOrCompute('q', compute)));
    expect(new Set(results)).toEqual(new Set(['shared answer']));
    expect(computes).toBe(1);
    const waits = await Promise.all([one.cache, two.cache].map(async (cache) => (await cache.stats()).kinds.find((kind) => kind.kind === 'two-replicas')?.stampedeWaits ?? 0));
    // 19 joins in each process, plus one wait behind the other replica's lock.
    expect(waits[0] + waits[1]).toBe(39);
    expect(await redis.exists(`${fixture.redis.prefix}:cache-lock:two-replicas:q`)).toBe(0);
  });

  it('computes itself when the lock holder is gone: after its lock expires, or after waiting at most waitMs', async () => {
    const { cache, logger } = await fixture.cache();
    const expiring = cache.kind(options('holder-gone', { waitMs: 5000, pollMs: 10 }));
    await redis.set(`${fixture.redis.prefix}:cache-lock:holder-gone:q`, 'a crashed replica', 'PX', 200);
    let started = Date.now();
    expect(await expiring.getOrCompute('q', () => Promise.resolve('mine'))).toBe('mine');
    const afterExpiry = Date.now() - started;
    expect(afterExpiry).toBeGreaterThanOrEqual(150);
    expect(afterExpiry).toBeLessThan(3000);

    const slow = cache.kind(options('holder-slow', { waitMs: 300, pollMs: 10 }));
    await redis.set(`${fixture.redis.prefix}:cache-lock:holder-slow:q`, 'a slow replica', 'PX', 60_000);
    started = Date.now();
    expect(await slow.getOrCompute('q', () => Promise.resolve('mine too'))).toBe('mine too');
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(280);
    expect(waited).toBeLessThan(3000);
    expect(logger.lines.some((line) => line.msg.includes('lock holder is slow or gone'))).toBe(true);
  });

  it('passes a failed compute to every waiting caller, caches nothing and releases the lock', async () => {
    const { cache } = await fixture.cache();
    const answers = cache.kind(options('failing'));
    let computes = 0;
    const failing = async () => {
      computes++;
      await sleep(50);
      throw new Error('the model is overloaded');
    };
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => answers.getOrCompute('q', failing)));
    expect(settled.every((result) => result.status === 'rejected' && (result.reason as Error).message === 'the model is overloaded')).toBe(true);
    expect(computes).toBe(1);
    await expect(answers.get('q')).resolves.toBeUndefined();
    // The lock is released in the background; the next call does not wait behind it.
    const started = Date.now();
    expect(await answers.getOrCompute('q', () => Promise.resolve('recovered'))).toBe('recovered');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
