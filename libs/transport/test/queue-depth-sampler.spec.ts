import { QueueName } from '@quarry/contracts';
import { ServiceMetrics } from '@quarry/observability';
import { type TestRedisPrefix, createTestRedisPrefix, freePort } from '@quarry/testing';
import { FlowProducer } from 'bullmq';
import { QueueDepthSampler } from '../src/queue-depth-sampler';
import { QueueRegistry } from '../src/queue-registry';

async function gauge(metrics: ServiceMetrics, name: 'queueJobs' | 'queueOldestWaitingAge'): Promise<Map<string, number>> {
  const values = (await metrics[name].get()).values;
  return new Map(values.map((value) => [Object.values(value.labels).join('/'), value.value]));
}

describe('QueueDepthSampler (real Redis)', () => {
  let redis: TestRedisPrefix;
  let queues: QueueRegistry;

  beforeEach(() => {
    redis = createTestRedisPrefix('depth');
    queues = new QueueRegistry(redis);
  });

  afterEach(async () => {
    await queues.close();
    await redis.cleanup();
  });

  it('counts prioritized, waiting-children and delayed jobs of every queue, consumer or not', async () => {
    const ingestion = queues.queue(QueueName.Ingestion);
    await ingestion.add('ingestion.parse', {}, { priority: 5 });
    await ingestion.add('ingestion.parse', {}, { priority: 1 });
    await ingestion.add('ingestion.parse', {});
    await ingestion.add('ingestion.parse', {}, { delay: 60_000 });
    const flows = new FlowProducer({ connection: { host: '127.0.0.1', port: 6379 }, prefix: redis.prefix });
    await flows.add({ name: 'tasks.run', queueName: QueueName.Tasks, data: {}, children: [{ name: 'tasks.run', queueName: QueueName.Tasks, data: {} }] });
    await flows.close();

    const metrics = new ServiceMetrics('gateway');
    await new QueueDepthSampler(queues, metrics).sample();
    const depth = await gauge(metrics, 'queueJobs');
    expect(depth.get('ingestion/prioritized')).toBe(2);
    expect(depth.get('ingestion/waiting')).toBe(1);
    expect(depth.get('ingestion/delayed')).toBe(1);
    expect(depth.get('tasks/waiting-children')).toBe(1);
    expect(depth.get('tasks/waiting')).toBe(1);
    // Every queue is reported, also those nobody has touched.
    for (const queue of Object.values(QueueName)) expect(depth.get(`${queue}/active`)).toBe(0);
  });

  it('reports the age of the oldest job next to run, among the wait list and the prioritized set', async () => {
    const ingestion = queues.queue(QueueName.Ingestion);
    await ingestion.add('ingestion.parse', {}, { priority: 9 });
    const oldest = Date.now();
    await ingestion.add('ingestion.parse', {}, { priority: 1 });
    let now = oldest + 90_000;
    const metrics = new ServiceMetrics('gateway');
    await new QueueDepthSampler(queues, metrics, 0, () => now).sample();
    const age = await gauge(metrics, 'queueOldestWaitingAge');
    // The low-priority job waits behind the other: it is the oldest, at the tail of the set.
    expect(age.get('ingestion')).toBeGreaterThanOrEqual(89);
    expect(age.get('ingestion')).toBeLessThanOrEqual(91);
    expect(age.get('retrieval')).toBe(0);
    now += 30_000;
    const sampler = new QueueDepthSampler(queues, metrics, 0, () => now);
    await sampler.sample();
    expect((await gauge(metrics, 'queueOldestWaitingAge')).get('ingestion')).toBeGreaterThanOrEqual(119);
  });

  it('reuses one sample for scrapes close together', async () => {
    const metrics = new ServiceMetrics('gateway');
    let now = 1_000_000;
    const sampler = new QueueDepthSampler(queues, metrics, 1000, () => now);
    await sampler.sample();
    await queues.queue(QueueName.Agent).add('agent.answer', {});
    await sampler.sample();
    expect((await gauge(metrics, 'queueJobs')).get('agent/waiting')).toBe(0);
    now += 1001;
    await sampler.sample();
    expect((await gauge(metrics, 'queueJobs')).get('agent/waiting')).toBe(1);
  });

  it('clears its gauges when Redis does not answer, instead of showing numbers from before the outage', async () => {
    const metrics = new ServiceMetrics('gateway');
    metrics.queueJobs.set({ queue: 'ingestion', state: 'waiting' }, 7);
    const unreachable = new QueueRegistry({ url: `redis://127.0.0.1:${await freePort()}`, prefix: redis.prefix });
    try {
      await new QueueDepthSampler(unreachable, metrics).sample();
      expect((await metrics.queueJobs.get()).values).toEqual([]);
    } finally {
      await unreachable.close();
    }
  });
});
