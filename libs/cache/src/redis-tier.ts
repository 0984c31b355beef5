import Redis, { type RedisOptions } from 'ioredis';
import { Packr } from 'msgpackr';

// Plain MessagePack (no msgpackr records), undefined as nil: the same data JSON would carry.
const packr = new Packr({ useRecords: false, encodeUndefinedAsNil: true });

export function encodeForRedis(value: unknown): Buffer {
  return packr.pack(value);
}

export function decodeFromRedis(buffer: Buffer): unknown {
  return packr.unpack(buffer);
}

// ioredis' own last resort for a command nobody waits for any more; callers' deadlines are shorter.
const COMMAND_TIMEOUT_MS = 2000;

const UNLOCK_SCRIPT = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;

export interface RedisTierEvents {
  /** the command connection is ready (first time or after a reconnect) */
  ready(): void;
  /** the command connection is gone */
  closed(reason: string): void;
  /** a drop message from any replica */
  drop(kind: string, key: string): void;
  /** the drop subscription is back after a reconnect: messages sent meanwhile were lost */
  resubscribed(): void;
}

/**
 * L2: two ioredis connections, one for commands (no offline queue: while Redis is away a command
 * fails at once instead of waiting), one subscribed to `<prefix>:cache:drop` (ioredis reconnects
 * and subscribes again by itself). Values are MessagePack under `<prefix>:cache:<kind>:<key>`.
 */
export class RedisTier {
  readonly client: Redis;
  private readonly subscriber: Redis;
  readonly channel: string;
  private subscribedOnce = false;
  private closing = false;

  constructor(
    url: string,
    private readonly prefix: string,
    private readonly events: RedisTierEvents,
  ) {
    this.channel = `${prefix}:cache:drop`;
    const base = redisOptions(url);
    this.client = new Redis({ ...base, enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: COMMAND_TIMEOUT_MS });
    this.subscriber = new Redis({ ...base, enableOfflineQueue: true, maxRetriesPerRequest: null });
    this.client.on('error', () => undefined);
    this.subscriber.on('error', () => undefined);
    this.client.on('ready', () => this.events.ready());
    this.client.on('close', () => {
      if (!this.closing) this.events.closed('connection to Redis closed');
    });
    this.subscriber.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      try {
        const { kind, key } = JSON.parse(message) as { kind?: unknown; key?: unknown };
        if (typeof kind === 'string' && typeof key === 'string') this.events.drop(kind, key);
      } catch {
        // not ours
      }
    });
    this.subscriber.on('ready', () => {
      // Every `ready` after the first subscription is a reconnect (ioredis re-subscribes itself).
      if (this.subscribedOnce && !this.closing) this.events.resubscribed();
    });
    this.client.defineCommand('quarryCacheUnlock', { numberOfKeys: 1, lua: UNLOCK_SCRIPT });
    this.subscriber.subscribe(this.channel).then(
      () => (this.subscribedOnce = true),
      () => undefined,
    );
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  /** Resolves when both connections are ready (or at the timeout): never rejects. */
  async ready(timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.client.status === 'ready' && this.subscribedOnce) return true;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return false;
  }

  valueKey(kind: string, key: string): string {
    return `${this.prefix}:cache:${kind}:${key}`;
  }

  lockKey(kind: string, key: string): string {
    return `${this.prefix}:cache-lock:${kind}:${key}`;
  }

  get(kind: string, key: string): Promise<Buffer | null> {
    return this.client.getBuffer(this.valueKey(kind, key));
  }

  async set(kind: string, key: string, value: Buffer, ttlMs: number): Promise<void> {
    await this.client.set(this.valueKey(kind, key), value, 'PX', Math.max(1, Math.round(ttlMs)));
  }

  /** Writes a batch in one round trip; the number of keys Redis took. */
  async setMany(kind: string, entries: Array<{ key: string; value: Buffer }>, ttlMs: number): Promise<number> {
    const pipeline = this.client.pipeline();
    for (const entry of entries) pipeline.set(this.valueKey(kind, entry.key), entry.value, 'PX', Math.max(1, Math.round(ttlMs)));
    const results = (await pipeline.exec()) ?? [];
    return results.filter(([error]) => error === null).length;
  }

  async delete(kind: string, key: string): Promise<void> {
    await this.client.del(this.valueKey(kind, key));
  }

  async publishDrop(kind: string, key: string): Promise<void> {
    await this.client.publish(this.channel, JSON.stringify({ kind, key }));
  }

  async tryLock(kind: string, key: string, token: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(this.lockKey(kind, key), token, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async unlock(kind: string, key: string, token: string): Promise<void> {
    const client = this.client as Redis & { quarryCacheUnlock(key: string, token: string): Promise<number> };
    await client.quarryCacheUnlock(this.lockKey(kind, key), token);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.client.disconnect();
    this.subscriber.disconnect();
    await Promise.resolve();
  }
}

function redisOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : 0;
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 6379,
    username: parsed.username ? decodeURIComponent(parsed.username) : undefined,
    password: parsed.password ? decodeURIComponent(parsed.password) : undefined,
    db: Number.isFinite(db) ? db : 0,
    tls: parsed.protocol === 'rediss:' ? {} : undefined,
    enableReadyCheck: true,
    // A restarted Redis is picked up again within 1 s, without restarting the service.
    retryStrategy: (attempt: number) => Math.min(attempt * 100, 1000),
  };
}
