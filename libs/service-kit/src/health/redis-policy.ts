import { redactUrl } from '@quarry/config';
import type { Logger } from '@quarry/observability';
import type Redis from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { DeepCheckResult } from './deep-health';

/** The only eviction policy under which Redis never drops BullMQ's keys (a job, a lock, a queue's meta) to make room. */
export const REQUIRED_POLICY = 'noeviction';
export const NOEVICTION_GAUGE = 'quarry_redis_noeviction';
export const POLICY_UNKNOWN_DETAIL = 'unknown (CONFIG GET refused)';
const BOOT_TIMEOUT_MS = 3000;

/** What Redis says its maxmemory-policy is; `null` when it refuses CONFIG GET (managed Redis often disables or renames CONFIG). */
export async function readMaxmemoryPolicy(redis: Redis): Promise<string | null> {
  let reply: unknown;
  try {
    reply = await redis.config('GET', 'maxmemory-policy');
  } catch (error) {
    // An error reply (unknown command, NOPERM …) is a refusal; a connection failure is a failure.
    if ((error as Error).name === 'ReplyError') return null;
    throw error;
  }
  const [key, value] = Array.isArray(reply) ? (reply as unknown[]) : [];
  return key === 'maxmemory-policy' && typeof value === 'string' ? value : null;
}

export function evictionWarning(policy: string): string {
  return `Redis maxmemory-policy is ${policy}; BullMQ needs ${REQUIRED_POLICY} or queued jobs can be evicted — set maxmemory-policy ${REQUIRED_POLICY}`;
}

/**
 * Redis's eviction policy, BullMQ's requirement: checked once at boot (a warning line when it is
 * another policy) and again by every deep health report, each time setting the gauge
 * quarry_redis_noeviction (1: noeviction, or not readable because CONFIG GET is refused; 0: another
 * policy, jobs can be evicted).
 */
export class RedisPolicyCheck {
  private gauge: Gauge | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly registry: Registry,
    private readonly logger: Pick<Logger, 'warn' | 'info'>,
    private readonly redisUrl: string,
  ) {}

  /** The deep health check: fails when Redis runs another policy. */
  async check(): Promise<DeepCheckResult & { detail: string }> {
    const policy = await readMaxmemoryPolicy(this.redis);
    this.record(policy);
    if (policy === null) return { ok: true, detail: POLICY_UNKNOWN_DETAIL };
    if (policy !== REQUIRED_POLICY) return { ok: false, error: `maxmemory-policy is ${policy}; BullMQ needs ${REQUIRED_POLICY}`, detail: policy };
    return { ok: true, detail: policy };
  }

  /** At boot: waits briefly for the connection, checks, and says so in the log; never fails the boot. */
  async checkAtBoot(timeoutMs = BOOT_TIMEOUT_MS): Promise<DeepCheckResult> {
    const redis = redactUrl(this.redisUrl);
    try {
      await whenReady(this.redis, timeoutMs);
      const result = await this.check();
      if (!result.ok) this.logger.warn(evictionWarning(result.detail), { redis, maxmemoryPolicy: result.detail });
      else if (result.detail === POLICY_UNKNOWN_DETAIL) {
        this.logger.info(`Redis maxmemory-policy is unknown (CONFIG GET refused); BullMQ needs ${REQUIRED_POLICY}: make sure the server is configured so`, { redis });
      }
      return result;
    } catch (error) {
      this.logger.warn('could not read Redis maxmemory-policy at boot; /health/deep checks it again', { redis, error: (error as Error).message });
      return { ok: false, error: (error as Error).message };
    }
  }

  private record(policy: string | null): void {
    this.gauge ??=
      (this.registry.getSingleMetric(NOEVICTION_GAUGE) as Gauge | undefined) ??
      new Gauge({
        // Spelt out (not NOEVICTION_GAUGE): the alert rules' source scan (tools/deploy) reads metric names from here.
        name: 'quarry_redis_noeviction',
        help: 'Whether Redis runs maxmemory-policy noeviction, as BullMQ needs: 1 yes (or unknown: CONFIG GET refused), 0 another policy (queued jobs can be evicted).',
        registers: [this.registry],
      });
    this.gauge.set(policy === null || policy === REQUIRED_POLICY ? 1 : 0);
  }
}

async function whenReady(redis: Redis, timeoutMs: number): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      redis.off('ready', done);
      resolve();
    };
    const timer = setTimeout(() => {
      redis.off('ready', done);
      reject(new Error(`Redis not connected within ${timeoutMs} ms`));
    }, timeoutMs);
    redis.on('ready', done);
  });
}
