import { JobName, QueueName } from '@quarry/contracts';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Queue } from 'bullmq';
import type { GatewayConfig } from '../src/config';
import { issueTestKey, startGateway } from './start-gateway';

const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`operator:${key}`).toString('base64')}` });

/** The queue dashboard (bull-board) on real Redis: only the operators' admin keys open it, and read-only means read-only. */
describe('queue dashboard at /admin/queues', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let gateway: RunningService<GatewayConfig>;
  let tasksQueue: Queue;

  beforeAll(async () => {
    schema = await createTestSchema('dashboard');
    redis = createTestRedisPrefix('dashboard');
    gateway = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, OPERATOR_TENANT: 'operators' });
    tasksQueue = new Queue(QueueName.Tasks, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
  }, 60_000);

  afterAll(async () => {
    await tasksQueue?.close();
    await gateway?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const open = (path: string, headers: Record<string, string> = {}, init: RequestInit = {}) => fetch(`${gateway.url}/admin/queues${path}`, { ...init, headers });

  it('asks a browser for the key, and refuses keys that are not admin keys of the operators', async () => {
    const refused = await open('');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="Quarry admin"/);
    expect((await open('', basic('qk_live_not-a-key'))).status).toBe(401);
    // The API itself still challenges with Bearer.
    expect((await fetch(`${gateway.url}/api/tasks`)).headers.get('www-authenticate')).toBe('Bearer');

    const writer = await issueTestKey(gateway, 'operators', 'write');
    const foreignAdmin = await issueTestKey(gateway, 'acme', 'admin');
    for (const key of [writer, foreignAdmin]) {
      const forbidden = await open('/api/queues', basic(key.key));
      expect(forbidden.status).toBe(403);
      const body = (await forbidden.json()) as { error: { code: string } };
      expect(body.error.code).toBe('FORBIDDEN');
    }
  });

  it("shows every queue and its jobs to an operator's admin key, as a page with a same-origin policy", async () => {
    const admin = await issueTestKey(gateway, 'operators', 'admin');
    const job = await tasksQueue.add(JobName.RunTask, { tenantId: 'acme', taskId: '7d4e1f0a-2b3c-4d5e-8f90-a1b2c3d4e5f6' }, { delay: 60_000 });

    const page = await open('', basic(admin.key));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Quarry queues');
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");

    const listing = await open('/api/queues?activeQueue=tasks&status=delayed', admin.headers);
    expect(listing.status).toBe(200);
    const { queues } = (await listing.json()) as { queues: Array<{ name: string; readOnlyMode: boolean; jobs: Array<{ id: string }> }> };
    expect(queues.map((queue) => queue.name).sort()).toEqual(Object.values(QueueName).sort());
    const tasks = queues.find((queue) => queue.name === QueueName.Tasks);
    expect(tasks?.readOnlyMode).toBe(true);
    expect(tasks?.jobs.map((entry) => entry.id)).toContain(job.id);

    // Read-only: removing a job is refused and the job stays.
    const removal = await open(`/api/queues/${QueueName.Tasks}/${job.id}/clean`, admin.headers, { method: 'PUT' });
    expect(removal.status).toBeGreaterThanOrEqual(400);
    expect(await tasksQueue.getJob(job.id as string)).toBeDefined();
  });
});
