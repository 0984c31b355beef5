import 'reflect-metadata';
import { hostname } from 'node:os';
import { Controller, Module } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { loadConfig, serviceEnv, serviceHttpEnv } from '@quarry/config';
import { QueueName, jobNamesOnQueue } from '@quarry/contracts';
import { createLogger } from '@quarry/observability';
import { type AlertTransition, SystemAlertRepository } from '@quarry/persistence';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import { AlertRecorder, type RunningService, runService } from '../src';

// Every job of the queue has a (do-nothing) handler, as the worker requires; none is sent here.
@Controller()
class TaskHandlers {
  @EventPattern(jobNamesOnQueue(QueueName.Tasks))
  run(): void {}
}

@Module({ controllers: [TaskHandlers] })
class WorkerModule {}

const CALM = { cpu: 0.1, memory: 0.1, eventLoopLag: 0, disk: 0.1 };

interface AlertRow {
  service: string;
  replica: string;
  pid: number;
  resource: string;
  level: string;
  value: number;
  threshold: number;
  cleared_value: number | null;
  cleared_by: string | null;
  raised_at: Date;
  cleared_at: Date | null;
}

/**
 * Resource alerts stored by a real worker (own schema and Redis prefix): the monitor is fed made-up
 * samples (the sampler's own timer is set far beyond the test), and every level change must show
 * up in system_alerts as it happened; a stopping worker ends its open alerts, a booting one those
 * an earlier process left open on its replica.
 */
describe('stored resource alerts', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  const services: Array<RunningService<ReturnType<typeof loadWorkerConfig>>> = [];

  const loadWorkerConfig = () =>
    loadConfig(serviceEnv.extend(serviceHttpEnv(0).shape), {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      LOG_LEVEL: 'error',
      // No real sample during the test: the alerts are the ones the test makes.
      RESOURCE_SAMPLE_MS: '3600000',
      RESOURCE_CPU_WARNING: '0.7',
      RESOURCE_CPU_CRITICAL: '0.85',
      RESOURCE_MEMORY_WARNING: '0.8',
      RESOURCE_MEMORY_CRITICAL: '0.9',
    });
  const start = async () => {
    const service = await runService({ name: 'worker', config: loadWorkerConfig(), http: { port: 0, host: '127.0.0.1' }, queues: [QueueName.Tasks], module: WorkerModule, silentLogs: true });
    services.push(service);
    return service;
  };
  // Transitions made in the same millisecond tie on raised_at: a resource's warning comes before the critical it escalated to.
  const rows = async (service: RunningService<ReturnType<typeof loadWorkerConfig>>, where = 'TRUE') =>
    service.kit.dataSource.query<AlertRow[]>(`SELECT * FROM system_alerts WHERE ${where} ORDER BY resource, raised_at, level = 'critical'`);

  beforeAll(async () => {
    schema = await createTestSchema('alerts');
    redis = createTestRedisPrefix('alerts');
  });

  afterAll(async () => {
    for (const service of services) await service.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  it('stores each raise and clear as the monitor makes it, and ends open alerts at shutdown', async () => {
    const service = await start();
    const monitor = service.resources?.monitor;
    if (!monitor || !service.alerts) throw new Error('a queue worker has a resource watch and stores its alerts');

    monitor.observe({ ...CALM, cpu: 0.75 });
    monitor.observe({ ...CALM, cpu: 0.9 });
    monitor.observe({ ...CALM, cpu: 0.3 });
    monitor.observe({ ...CALM, memory: 0.95 });
    await waitFor(async () => (await rows(service)).length === 3 && service.alerts?.backlog === 0, { timeoutMs: 5000, intervalMs: 25, description: 'the alerts to be stored' });

    const origin = { service: 'worker', replica: hostname(), pid: process.pid };
    expect((await rows(service)).map(({ service: name, replica, pid, resource, level, value, threshold, cleared_value, cleared_by }) => ({ name, replica, pid, resource, level, value, threshold, cleared_value, cleared_by }))).toEqual([
      { name: origin.service, replica: origin.replica, pid: origin.pid, resource: 'cpu', level: 'warning', value: 0.75, threshold: 0.7, cleared_value: 0.9, cleared_by: 'critical' },
      { name: origin.service, replica: origin.replica, pid: origin.pid, resource: 'cpu', level: 'critical', value: 0.9, threshold: 0.85, cleared_value: 0.3, cleared_by: 'ok' },
      { name: origin.service, replica: origin.replica, pid: origin.pid, resource: 'memory', level: 'critical', value: 0.95, threshold: 0.9, cleared_value: null, cleared_by: null },
    ]);
    const [warning, critical] = await rows(service, `resource = 'cpu'`);
    // The critical stretch starts the moment the warning ends.
    expect(critical.raised_at.getTime()).toBe(warning.cleared_at?.getTime());
    await expect(new SystemAlertRepository(service.kit.dataSource).list({ state: 'active', limit: 10 })).resolves.toEqual([expect.objectContaining({ resource: 'memory', level: 'critical', clearedAt: null })]);

    await service.close();
    // Read through a worker started afterwards (the stopped one's connections are closed).
    const next = await start();
    expect((await rows(next, `resource = 'memory'`)).map((row) => ({ cleared_by: row.cleared_by, cleared: row.cleared_at !== null }))).toEqual([{ cleared_by: 'shutdown', cleared: true }]);
  }, 60_000);

  it("a booting worker ends the alerts an earlier process of its service left open on its replica, and no one else's", async () => {
    const service = services[services.length - 1];
    const alerts = new SystemAlertRepository(service.kit.dataSource);
    const crashed = { service: 'worker', replica: hostname(), pid: 999_999 };
    const elsewhere = { service: 'worker', replica: 'another-host', pid: 999_999 };
    const otherService = { service: 'ingestion', replica: hostname(), pid: 999_998 };
    for (const origin of [crashed, elsewhere, otherService]) await alerts.recordTransition({ origin, resource: 'disk', level: 'warning', value: 0.9, threshold: 0.85, at: new Date() });

    await start();
    await waitFor(async () => (await rows(service, `pid = 999999 AND replica = '${hostname()}'`))[0]?.cleared_by === 'restart', { timeoutMs: 5000, intervalMs: 25, description: "the crashed process's alert to be ended" });
    expect((await rows(service, `resource = 'disk' AND cleared_at IS NULL`)).map((row) => `${row.service}@${row.replica}`).sort()).toEqual([`ingestion@${hostname()}`, 'worker@another-host']);
  }, 60_000);

  it('never throws or blocks the monitor while Postgres is unreachable: holds a bounded backlog, and writes it in order once Postgres is back', async () => {
    const service = services[services.length - 1];
    const repository = new SystemAlertRepository(service.kit.dataSource);
    let down = true;
    const attempts: AlertTransition[] = [];
    const store = {
      recordTransition: async (transition: AlertTransition) => {
        attempts.push(transition);
        if (down) throw new Error('connect ECONNREFUSED 127.0.0.1:5432');
        await repository.recordTransition(transition);
      },
      closeOpenOf: (origin: AlertTransition['origin']) => repository.closeOpenOf(origin),
      closeLeftBehind: (origin: AlertTransition['origin']) => repository.closeLeftBehind(origin),
    };
    const logger = createLogger({ service: 'test', level: 'error', silent: true });
    const warnings = jest.spyOn(logger, 'warn');
    const warned = () => warnings.mock.calls.map(([message]) => String(message as unknown));
    const origin = { service: 'outage-test', replica: 'r1', pid: 1 };
    const recorder = new AlertRecorder(store, origin, logger, { maxPending: 5, retryMs: 50 });

    const levels = ['warning', 'critical', 'ok', 'warning', 'ok', 'critical', 'ok', 'warning'] as const;
    for (const [index, level] of levels.entries()) {
      expect(() => recorder.record({ resource: 'eventLoopLag', level, previous: 'ok', value: index, threshold: level === 'ok' ? null : 1 }, new Date(Date.UTC(2025, 0, 1, 0, 0, index)))).not.toThrow();
    }
    // Bounded: the three oldest went, each logged; the failure itself is logged once, not per retry.
    expect({ backlog: recorder.backlog, dropped: recorder.dropped }).toEqual({ backlog: 5, dropped: 3 });
    await waitFor(() => attempts.length >= 4, { timeoutMs: 5000, intervalMs: 10, description: 'a few retries' });
    expect(warned().filter((message) => message === 'resource alerts cannot be stored; held and retried')).toHaveLength(1);
    expect(warned().filter((message) => message.startsWith('resource alert dropped'))).toHaveLength(3);

    down = false;
    await waitFor(() => recorder.backlog === 0, { timeoutMs: 5000, intervalMs: 10, description: 'the backlog to be written' });
    const stored = await rows(service, `service = 'outage-test'`);
    // What was kept (values 3..7: warning, ok, critical, ok, warning) is written in order: two stretches ended, one open.
    expect(stored.map((row) => ({ level: row.level, value: row.value, cleared_by: row.cleared_by }))).toEqual([
      { level: 'warning', value: 3, cleared_by: 'ok' },
      { level: 'critical', value: 5, cleared_by: 'ok' },
      { level: 'warning', value: 7, cleared_by: null },
    ]);
    await recorder.stop();
    expect((await rows(service, `service = 'outage-test' AND cleared_at IS NULL`)).length).toBe(0);
    // Stopped: nothing more is taken.
    recorder.record({ resource: 'cpu', level: 'critical', previous: 'ok', value: 1, threshold: 0.85 });
    expect(recorder.backlog).toBe(0);
  }, 30_000);

  it('a stopping process with Postgres unreachable gives up after its deadline instead of holding the shutdown', async () => {
    const logger = createLogger({ service: 'test', level: 'error', silent: true });
    const never = () => new Promise<never>(() => undefined);
    const recorder = new AlertRecorder({ recordTransition: never, closeOpenOf: never, closeLeftBehind: never }, { service: 's', replica: 'r', pid: 1 }, logger, { stopDeadlineMs: 300 });
    recorder.record({ resource: 'cpu', level: 'warning', previous: 'ok', value: 0.8, threshold: 0.7 });
    const started = performance.now();
    await recorder.stop();
    expect(performance.now() - started).toBeLessThan(2000);
    expect(recorder.backlog).toBe(1);
  });
});
