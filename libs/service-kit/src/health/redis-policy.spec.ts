import { type ChildProcess, spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { createLogger } from '@quarry/observability';
import { TEST_REDIS_URL, freePort, waitFor } from '@quarry/testing';
import Redis from 'ioredis';
import { Registry } from 'prom-client';
import winston from 'winston';
import { NOEVICTION_GAUGE, POLICY_UNKNOWN_DETAIL, RedisPolicyCheck, evictionWarning, readMaxmemoryPolicy } from './redis-policy';

/** A redis-server of this test's own (the shared one is never reconfigured), started with extra arguments. */
async function startRedis(...extra: string[]): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const child: ChildProcess = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--loglevel', 'warning', ...extra], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `redis://127.0.0.1:${port}`;
  await waitFor(
    async () => {
      const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, disconnectTimeout: 50 });
      probe.on('error', () => undefined);
      try {
        await probe.connect();
        const answered = (await probe.ping()) === 'PONG';
        await probe.quit();
        return answered;
      } catch {
        probe.disconnect();
        return false;
      }
    },
    { timeoutMs: 10_000, intervalMs: 50, description: `redis-server on ${port}` },
  );
  return {
    url,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

function memoryLogger(): { logger: winston.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ service: 'policy-test', level: 'info' }).clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
          done();
        },
      }),
    }),
  );
  return { logger, lines };
}

async function gaugeValue(registry: Registry): Promise<number | undefined> {
  const metric = registry.getSingleMetric(NOEVICTION_GAUGE);
  return metric ? (await metric.get()).values[0]?.value : undefined;
}

describe('Redis maxmemory-policy check', () => {
  const connections: Redis[] = [];
  // As the kit connects (no offline queue), and connected, as the kit's connection is once the service answers.
  const connect = async (url: string) => {
    const redis = new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, disconnectTimeout: 50 });
    redis.on('error', () => undefined);
    connections.push(redis);
    await waitFor(() => redis.status === 'ready', { timeoutMs: 5000, intervalMs: 20, description: 'connected to Redis' });
    return redis;
  };
  const disconnectAll = async () => {
    for (const redis of connections.splice(0)) {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    }
  };
  afterEach(disconnectAll);

  it('fails on a Redis that evicts (allkeys-lru): a warning line at boot, the gauge at 0, the deep check failed', async () => {
    const server = await startRedis('--maxmemory-policy', 'allkeys-lru');
    try {
      const registry = new Registry();
      const { logger, lines } = memoryLogger();
      const check = new RedisPolicyCheck(await connect(server.url), registry, logger, server.url.replace('redis://', 'redis://:s3cret@'));
      const atBoot = await check.checkAtBoot();
      expect(atBoot).toEqual({ ok: false, error: 'maxmemory-policy is allkeys-lru; BullMQ needs noeviction', detail: 'allkeys-lru' });
      const warning = lines.find((line) => line.level === 'warn');
      expect(warning?.message).toBe('Redis maxmemory-policy is allkeys-lru; BullMQ needs noeviction or queued jobs can be evicted — set maxmemory-policy noeviction');
      expect(warning?.message).toBe(evictionWarning('allkeys-lru'));
      expect(warning?.redis).toBe(`redis://:***@127.0.0.1:${new URL(server.url).port}`);
      expect(JSON.stringify(lines)).not.toContain('s3cret');
      expect(await gaugeValue(registry)).toBe(0);
      expect(await registry.metrics()).toMatch(new RegExp(`^${NOEVICTION_GAUGE} 0$`, 'm'));
      await expect(check.check()).resolves.toMatchObject({ ok: false, detail: 'allkeys-lru' });
    } finally {
      await disconnectAll();
      await server.stop();
    }
  });

  it('follows a policy changed at runtime: the next check and the gauge see it', async () => {
    const server = await startRedis('--maxmemory-policy', 'volatile-lru');
    try {
      const registry = new Registry();
      const redis = await connect(server.url);
      const check = new RedisPolicyCheck(redis, registry, memoryLogger().logger, server.url);
      await expect(check.check()).resolves.toMatchObject({ ok: false, detail: 'volatile-lru' });
      expect(await gaugeValue(registry)).toBe(0);
      await redis.config('SET', 'maxmemory-policy', 'noeviction');
      await expect(check.check()).resolves.toEqual({ ok: true, detail: 'noeviction' });
      expect(await gaugeValue(registry)).toBe(1);
    } finally {
      await disconnectAll();
      await server.stop();
    }
  });

  it('passes on the shared Redis (noeviction): no warning, the gauge at 1', async () => {
    const redis = await connect(TEST_REDIS_URL);
    expect(await readMaxmemoryPolicy(redis)).toBe('noeviction');
    const registry = new Registry();
    const { logger, lines } = memoryLogger();
    const check = new RedisPolicyCheck(redis, registry, logger, TEST_REDIS_URL);
    await expect(check.checkAtBoot()).resolves.toEqual({ ok: true, detail: 'noeviction' });
    expect(lines.filter((line) => line.level === 'warn')).toEqual([]);
    expect(await gaugeValue(registry)).toBe(1);
  });

  it('tolerates a Redis that refuses CONFIG (as managed ones do): ok, "unknown", the gauge at 1, an info line', async () => {
    const server = await startRedis('--rename-command', 'CONFIG', '');
    try {
      const registry = new Registry();
      const { logger, lines } = memoryLogger();
      const check = new RedisPolicyCheck(await connect(server.url), registry, logger, server.url);
      await expect(check.checkAtBoot()).resolves.toEqual({ ok: true, detail: POLICY_UNKNOWN_DETAIL });
      expect(lines.filter((line) => line.level === 'warn')).toEqual([]);
      expect(lines.some((line) => String(line.message).includes('CONFIG GET refused'))).toBe(true);
      expect(await gaugeValue(registry)).toBe(1);
    } finally {
      await disconnectAll();
      await server.stop();
    }
  });

  it('fails (not "unknown") when Redis does not answer at all, and never throws at boot', async () => {
    const server = await startRedis();
    const redis = await connect(server.url);
    await server.stop();
    const registry = new Registry();
    const { logger, lines } = memoryLogger();
    const check = new RedisPolicyCheck(redis, registry, logger, server.url);
    await expect(check.check()).rejects.toThrow();
    await expect(check.checkAtBoot(300)).resolves.toMatchObject({ ok: false });
    expect(lines.some((line) => line.level === 'warn' && String(line.message).startsWith('could not read Redis maxmemory-policy'))).toBe(true);
    // Nothing known: no gauge rather than a false 0 or 1.
    expect(await gaugeValue(registry)).toBeUndefined();
  });
});
