import { type ServiceName, PrivatePostgres, PrivateRedis, ServiceStack } from '@quarry/testing';
import { Pool } from 'pg';
import { type ScenarioTally, countFault, emptyTally } from './fault-tally';

/**
 * Settings that make recovery quick enough to watch: short job locks (a killed worker's job is
 * taken up again in seconds), a reconciler that looks often, and little patience for stuck
 * documents. Production defaults are longer; the mechanisms are the same.
 */
const FAULT_ENV: Record<string, string> = {
  LOG_LEVEL: 'warn',
  WORKER_LOCK_MS: '3000',
  RECONCILE_EVERY_MS: '2000',
  RECONCILE_STUCK_SECONDS: '10',
  SHUTDOWN_TIMEOUT_MS: '3000',
  // The clients name their tenant as an authenticating proxy would: these scenarios are about
  // faults, not keys (key authentication has suites of its own, e2e cross-tenant included).
  AUTH_MODE: 'trusted-header',
  AUTH_TRUSTED_ROLE: 'write',
  // The loads are many times one client's budget; a 429 would hide the answer the fault produced.
  RATE_LIMIT_PER_MINUTE: '0',
};

/**
 * The five services as real processes on a Postgres and a Redis (append-only file, as production
 * runs it) of their own, so a scenario can kill and restart any of them. Every injected fault is
 * counted in the scenario's tally.
 */
export class FaultRig {
  readonly tally: ScenarioTally;

  private constructor(
    scenario: string,
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly stack: ServiceStack,
    /** Direct access to the services' database, to check what they stored. */
    readonly db: Pool,
    /** Log lines of rejections no code handled (each is a bug somewhere, even if survived). */
    readonly unhandledRejections: string[],
  ) {
    this.tally = emptyTally(scenario);
  }

  static async start(scenario: string, options: { env?: Record<string, string>; replicas?: Partial<Record<ServiceName, number>> } = {}): Promise<FaultRig> {
    const postgres = await PrivatePostgres.start();
    const redis = await PrivateRedis.start({ appendOnly: true });
    const databaseUrl = postgres.url.replace(/\/postgres$/, '/quarry');
    const unhandled: string[] = [];
    const stack = new ServiceStack({
      databaseUrl,
      databaseSchema: 'public',
      redisUrl: redis.url,
      redisPrefix: 'quarry',
      env: { ...FAULT_ENV, ...options.env },
      // A rejection nobody handled is logged, not fatal (run-service.ts); the suite still reports each.
      onOutput: (service, line) => {
        if (line.includes('unhandled promise rejection')) unhandled.push(`${service}: ${line}`);
      },
    });
    const db = new Pool({ connectionString: databaseUrl, max: 4 });
    // The pool's idle connections die with every Postgres stop; that is expected here.
    db.on('error', () => undefined);
    const rig = new FaultRig(scenario, postgres, redis, stack, db, unhandled);
    try {
      await stack.start();
      for (const [service, count] of Object.entries(options.replicas ?? {})) {
        for (let replica = 1; replica < (count ?? 1); replica++) await stack.startReplica(service as ServiceName);
      }
    } catch (error) {
      await rig.stop();
      throw error;
    }
    return rig;
  }

  get gatewayUrl(): string {
    return this.stack.gatewayUrl;
  }

  /** How many documents are in one of these states (read straight from the services' database). */
  async countDocuments(statuses: string[]): Promise<number> {
    const { rows } = await this.db.query<{ count: number }>('SELECT count(*)::int AS count FROM documents WHERE status = ANY($1)', [statuses]);
    return rows[0].count;
  }

  /** Accepted documents not finished yet: what an upload load's backpressure looks at. */
  backlog(): Promise<number> {
    return this.countDocuments(['queued', 'processing']);
  }

  async statusOf(documentId: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ status: string }>('SELECT status FROM documents WHERE id = $1', [documentId]);
    return rows[0]?.status;
  }

  /** kill -9 of one process of a service (a crash, an OOM kill), counted as one fault. */
  async kill(key: string): Promise<void> {
    await this.stack.killProcess(key);
    countFault(this.tally, `kill -9 ${key.split('#')[0]}`);
  }

  /** Starts a killed process again (the orchestrator's restart); not a fault of its own. */
  async revive(key: string): Promise<void> {
    await this.stack.restartProcess(key);
  }

  /** Redis killed and started again on its append-only file. */
  async restartRedis(downMs = 0): Promise<void> {
    await this.redis.kill();
    if (downMs > 0) await sleep(downMs);
    await this.redis.restart();
    countFault(this.tally, 'Redis kill -9 + restart (AOF)');
  }

  /** Redis killed, to stay down until `startRedis` (a long outage, with work going on meanwhile). */
  async stopRedis(): Promise<void> {
    await this.redis.kill();
    countFault(this.tally, 'Redis kill -9 (long outage)');
  }

  /** Redis started again on its append-only file after `stopRedis`. */
  async startRedis(): Promise<void> {
    await this.redis.restart();
  }

  /** Redis killed and started again with none of its data: queues, locks, schedules all gone. */
  async restartRedisEmpty(downMs = 0): Promise<void> {
    await this.redis.kill();
    if (downMs > 0) await sleep(downMs);
    await this.redis.restartEmpty();
    countFault(this.tally, 'Redis restart, data lost');
  }

  /** Postgres stopped in immediate mode (connections cut, crash recovery at the next start). */
  async stopPostgres(): Promise<void> {
    await this.postgres.stopServer('immediate');
    countFault(this.tally, 'Postgres stop -m immediate + start');
  }

  async startPostgres(): Promise<void> {
    await this.postgres.startServer();
  }

  async stop(): Promise<void> {
    await this.stack.stop().catch(() => undefined);
    await this.db.end().catch(() => undefined);
    await this.redis.stop().catch(() => undefined);
    await this.postgres.destroy().catch(() => undefined);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
