import { withinDeadline } from '@quarry/domain';
import type { DataSource } from '@quarry/persistence';
import type Redis from 'ioredis';

export interface ReadinessReport {
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string }>;
  /** the state of parts that degrade instead of failing (cache tiers): reported, never a reason to be unready */
  details?: Record<string, unknown>;
}

/** Readiness: Postgres and Redis answer, and the process is not shutting down. */
export class Readiness {
  private shuttingDown = false;
  private readonly detailProviders = new Map<string, () => unknown>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: Redis,
  ) {}

  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  /** Adds a part's state to every report (e.g. the cache's tiers), without a say in readiness. */
  addDetail(name: string, provide: () => unknown): void {
    this.detailProviders.set(name, provide);
  }

  async report(): Promise<ReadinessReport> {
    const [postgres, redis] = await Promise.all([
      this.check(() => this.dataSource.query('SELECT 1')),
      this.check(() => this.redis.ping()),
    ]);
    const checks = { postgres, redis, process: this.shuttingDown ? { ok: false, error: 'shutting down' } : { ok: true } };
    const ready = Object.values(checks).every((check) => check.ok);
    if (this.detailProviders.size === 0) return { ready, checks };
    const details = Object.fromEntries([...this.detailProviders].map(([name, provide]) => [name, provide()]));
    return { ready, checks, details };
  }

  private async check(probe: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> {
    try {
      await withinDeadline(probe(), 2000);
      return { ok: true };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }
}
