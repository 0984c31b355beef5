import type { DataSource } from '@quarry/persistence';
import type Redis from 'ioredis';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Readiness: Postgres and Redis answer, and the process is not shutting down. */
export class Readiness {
  private shuttingDown = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: Redis,
  ) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async report(): Promise<ReadinessReport> {
    const [postgres, redis] = await Promise.all([
      this.check(() => this.dataSource.query('SELECT 1')),
      this.check(() => this.redis.ping()),
    ]);
    const checks = { postgres, redis, process: this.shuttingDown ? { ok: false, error: 'shutting down' } : { ok: true } };
    return { ready: Object.values(checks).every((check) => check.ok), checks };
  }

  private async check(probe: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
    try {
      await withTimeout(probe(), 2000);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }
}
