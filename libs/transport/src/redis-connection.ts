import type { RedisOptions } from 'ioredis';

/** Where BullMQ keeps its keys: one Redis, one key prefix per deployment (or per test run). */
export interface RedisTarget {
  url: string;
  prefix: string;
}

const PRODUCER_COMMAND_TIMEOUT_MS = 5000;

/**
 * ioredis options from a redis:// or rediss:// URL. Reconnects back off up to 2 s so a restarted
 * Redis is picked up again without restarting the service.
 * - `consumer` (workers, queue events): `maxRetriesPerRequest: null`, as BullMQ requires for its
 *   blocking connections; commands wait for the reconnect.
 * - `producer` (adding jobs): no offline queue and a command timeout, so a request fails at once
 *   while Redis is down, and within seconds when it hangs, instead of waiting for it.
 */
export function redisOptionsFromUrl(url: string, role: 'producer' | 'consumer' = 'consumer'): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isFinite(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    maxRetriesPerRequest: role === 'consumer' ? null : 1,
    enableOfflineQueue: role === 'consumer',
    ...(role === 'producer' ? { commandTimeout: PRODUCER_COMMAND_TIMEOUT_MS } : {}),
    enableReadyCheck: true,
    retryStrategy: (attempt) => Math.min(attempt * 100, 2000),
  };
}
