import { type IRateLimiterOptions, RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type Redis from 'ioredis';

/** One fixed window: at most `points` requests per `seconds`. */
interface RateWindow {
  name: 'minute' | 'second';
  points: number;
  seconds: number;
}

/** The verdict on one request, with what the RateLimit-* headers report (the per-minute budget). */
export interface RateDecision {
  allowed: boolean;
  /** Requests allowed per minute. */
  limit: number;
  /** Of those, left in the current minute. */
  remaining: number;
  /** Seconds until the current minute's budget is whole again. */
  resetSeconds: number;
  /** When refused: seconds until every window that refused has room again; and which one refused. */
  retryAfterSeconds?: number;
  refusedBy?: 'minute' | 'second';
}

export interface RequestRateLimiterOptions {
  /** The connection the counters live on (shared by every gateway replica). */
  redis: Redis;
  /** Redis key prefix of the counters (under the deployment's REDIS_PREFIX). */
  keyPrefix: string;
  perMinute: number;
  /** At most this many of them in one second; 0: no per-second cap. */
  burst: number;
  /** Called whenever a request is counted in-process because Redis could not be reached. */
  onFallback?: () => void;
}

/**
 * The in-process stand-in rate-limiter-flexible calls (its `insuranceLimiter`) when a Redis
 * command fails; it tells the owner, so that the degraded mode shows in the logs.
 */
class InProcessFallback extends RateLimiterMemory {
  constructor(
    options: IRateLimiterOptions,
    private readonly onUse: () => void,
  ) {
    super(options);
  }

  override consume(key: string | number, pointsToConsume?: number, options?: Record<string, unknown>): Promise<RateLimiterRes> {
    this.onUse();
    return super.consume(key, pointsToConsume, options);
  }
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));

/**
 * Requests per caller, counted in Redis so that every gateway replica draws on the same budget: a
 * fixed one-minute window (RATE_LIMIT_PER_MINUTE) and, inside it, a one-second window that caps
 * bursts (RATE_LIMIT_BURST). A request must fit in both; refused requests count too, so a client
 * that keeps hammering stays refused until the window ends (windows are fixed, so it always ends).
 *
 * When Redis cannot be reached (down, restarting, or slower than the command timeout), each
 * replica counts in its own memory instead, with the same limits: the gateway keeps serving and
 * keeps limiting, but a caller spread over N replicas may get up to N times its budget until Redis
 * is back. Failing every request because the limiter cannot count would turn a Redis blip into a
 * full outage, and not limiting at all would leave the gateway open exactly when it is weakest.
 */
export class RequestRateLimiter {
  private readonly windows: Array<RateWindow & { limiter: RateLimiterRedis }>;
  readonly perMinute: number;

  constructor(options: RequestRateLimiterOptions) {
    this.perMinute = options.perMinute;
    const windows: RateWindow[] = [{ name: 'minute', points: options.perMinute, seconds: 60 }];
    if (options.burst > 0 && options.burst < options.perMinute) windows.push({ name: 'second', points: options.burst, seconds: 1 });
    this.windows = windows.map((window) => {
      const shape = { points: window.points, duration: window.seconds };
      return {
        ...window,
        limiter: new RateLimiterRedis({
          ...shape,
          storeClient: options.redis,
          keyPrefix: `${options.keyPrefix}:${window.name}`,
          // A caller already over the limit is refused from memory until its window ends: a client
          // hammering a refused key costs no Redis round trip.
          inMemoryBlockOnConsumed: window.points + 1,
          // Straight to the in-process count while the connection is down, without waiting for a timeout.
          rejectIfRedisNotReady: true,
          insuranceLimiter: new InProcessFallback(shape, () => options.onFallback?.()),
        }),
      };
    });
  }

  /** Counts one request of `subject` and says whether it may go on. */
  async take(subject: string): Promise<RateDecision> {
    const outcomes = await Promise.all(this.windows.map((window) => window.limiter.consume(subject).then(allowed, refused)));
    const [minute] = outcomes;
    const decision: RateDecision = {
      allowed: true,
      limit: this.perMinute,
      remaining: minute.res.remainingPoints,
      resetSeconds: seconds(minute.res.msBeforeNext),
    };
    outcomes.forEach((outcome, index) => {
      if (outcome.allowed) return;
      const wait = seconds(outcome.res.msBeforeNext);
      decision.allowed = false;
      if (decision.retryAfterSeconds === undefined || wait > decision.retryAfterSeconds) {
        decision.retryAfterSeconds = wait;
        decision.refusedBy = this.windows[index].name;
      }
    });
    return decision;
  }
}

const allowed = (res: RateLimiterRes) => ({ allowed: true, res });

/** A refusal arrives as a RateLimiterRes; anything else is a failure of the limiter itself, passed on. */
function refused(reason: unknown): { allowed: false; res: RateLimiterRes } {
  if (reason instanceof RateLimiterRes) return { allowed: false, res: reason };
  throw reason;
}
