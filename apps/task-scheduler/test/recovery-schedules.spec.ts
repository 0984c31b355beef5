import { QueueName, stageJobId } from '@quarry/contracts';
import { type DataSource, DocumentRepository, createDataSource } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { PrivateRedis, type TestSchema, createTestSchema, waitFor } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import type { SchedulerConfig } from '../src/config';
import { JobSchedules } from '../src/services/job-schedules.service';
import { startScheduler } from './start-scheduler';

const PREFIX = 'quarry-schedules-test';
const TENANT = 'acme';

describe('recovery schedules survive Redis losing its data (in-process task-scheduler, own redis-server)', () => {
  let schema: TestSchema;
  let redis: PrivateRedis;
  let service: RunningService<SchedulerConfig>;
  let dataSource: DataSource;
  let documents: DocumentRepository;
  let scheduler: Queue;
  let ingestion: Queue;

  beforeAll(async () => {
    schema = await createTestSchema('schedules');
    redis = await PrivateRedis.start();
    service = await startScheduler({
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: PREFIX,
      SHUTDOWN_TIMEOUT_MS: '2000',
      // Far apart, so only the restored schedules' immediate reconcile can explain a quick re-drive.
      RECONCILE_EVERY_MS: '600000',
      RECONCILE_STUCK_SECONDS: '3600',
      SCHEDULE_CHECK_EVERY_MS: '1000',
    });
    dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 2, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    documents = new DocumentRepository(dataSource);
    scheduler = new Queue(QueueName.Scheduler, { connection: redisOptionsFromUrl(redis.url), prefix: PREFIX });
    ingestion = new Queue(QueueName.Ingestion, { connection: redisOptionsFromUrl(redis.url), prefix: PREFIX });
    for (const queue of [scheduler, ingestion]) queue.on('error', () => undefined);
  }, 60_000);

  afterAll(async () => {
    await scheduler?.close();
    await ingestion?.close();
    await service?.close();
    await dataSource?.destroy();
    await redis?.stop();
    await schema?.drop();
  });

  const schedules = async () => (await scheduler.getJobSchedulers()).map((entry) => `${entry.key}:${entry.every ?? entry.pattern}`).sort();
  const restoredCount = async () =>
    (await service.kit.metrics.schedulesRestored.get()).values.filter((value) => value.labels.schedule === 'reconcile-documents').reduce((sum, value) => sum + value.value, 0);

  /** A queued document whose parse job is gone, updated just now: not stuck by the 3600 s threshold. */
  async function documentWithLostJob(label: string) {
    const sha256 = Buffer.from(label).toString('hex').padEnd(64, '0').slice(0, 64);
    const { document } = await documents.createOrFindLive({ tenantId: TENANT, filename: `${label}.md`, mediaType: 'text/markdown', sha256, tags: [], folder: '/' }, Buffer.from(label));
    return { id: document.id, jobId: stageJobId('parse', document.id, sha256) };
  }

  it('registers the schedules at boot, and checking healthy ones again does not move their next run', async () => {
    expect(await schedules()).toEqual(['purge-query-log:3600000', 'reconcile-documents:600000', 'reconcile-tasks:600000', 'warm-answer-caches:0 2 * * *']);
    const next = (await scheduler.getJobScheduler('reconcile-documents'))?.next;
    const before = await restoredCount();
    const checks = service.app.get(JobSchedules);
    await checks.ensure('test');
    await checks.ensure('test');
    expect((await scheduler.getJobScheduler('reconcile-documents'))?.next).toBe(next);
    expect(await restoredCount()).toBe(before);
  });

  it('restores them when Redis restarts empty, and re-drives documents whose jobs were lost, without a scheduler restart', async () => {
    const lost = await documentWithLostJob('restart-empty');
    const before = await restoredCount();
    const checks = jest.spyOn(service.app.get(JobSchedules), 'ensure');
    await redis.restartEmpty();

    await waitFor(async () => (await schedules()).length === 4, { timeoutMs: 15_000, description: 'the schedules to be registered again' });
    expect(await schedules()).toEqual(['purge-query-log:3600000', 'reconcile-documents:600000', 'reconcile-tasks:600000', 'warm-answer-caches:0 2 * * *']);
    const redriven = await waitFor(() => ingestion.getJob(lost.jobId), { timeoutMs: 15_000, description: 'the lost parse job to be re-driven' });
    expect(redriven.data).toMatchObject({ tenantId: TENANT, documentId: lost.id });
    expect(await restoredCount()).toBe(before + 1);
    // Noticed by the connection becoming ready again, not only by the periodic check.
    expect(checks).toHaveBeenCalledWith('redis ready');
    checks.mockRestore();
  }, 40_000);

  it('restores them after a FLUSHALL too (no reconnect: the periodic check notices)', async () => {
    const lost = await documentWithLostJob('flushall');
    const admin = new Redis(redis.url);
    try {
      await admin.flushall();
    } finally {
      admin.disconnect();
    }
    await waitFor(async () => (await schedules()).length === 4, { timeoutMs: 15_000, description: 'the schedules to be registered again' });
    await expect(waitFor(() => ingestion.getJob(lost.jobId), { timeoutMs: 15_000, description: 'the lost parse job to be re-driven' })).resolves.toBeDefined();
  }, 40_000);
});
