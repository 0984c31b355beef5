import { Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { percentile } from './stats';

// The three ways the issue names for an answer's events to go from the agent to the gateway over
// Redis, each measured as one event's hop (sent → received by the listener), one at a time:
//  - pub/sub: PUBLISH on a channel the gateway SUBSCRIBEd to (what answer streams use);
//  - a Redis stream: XADD, read by a blocking XREAD;
//  - BullMQ job progress: job.updateProgress, heard through QueueEvents (a blocking XREAD on the
//    queue's event stream, which every progress event of every job of the queue goes through).

export interface TransportFigures {
  transport: string;
  p50: number;
  p95: number;
}

const EVENT = JSON.stringify({ type: 'token', delta: 'vacation ' });

async function pubSub(url: string, prefix: string, count: number): Promise<number[]> {
  const publisher = new Redis(url);
  const subscriber = new Redis(url);
  const channel = `${prefix}:bench-transport:pubsub`;
  let resolveNext: (() => void) | undefined;
  subscriber.on('message', () => resolveNext?.());
  await subscriber.subscribe(channel);
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const arrived = new Promise<void>((resolve) => (resolveNext = resolve));
    const started = performance.now();
    await publisher.publish(channel, EVENT);
    await arrived;
    samples.push(performance.now() - started);
  }
  publisher.disconnect();
  subscriber.disconnect();
  return samples;
}

async function redisStream(url: string, prefix: string, count: number): Promise<number[]> {
  const writer = new Redis(url);
  const reader = new Redis(url);
  const key = `${prefix}:bench-transport:stream`;
  let last = '$';
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const read = reader.xread('BLOCK', 1000, 'STREAMS', key, last);
    // The blocking read must be at Redis before the event is added (as a reader that waits is).
    await new Promise((resolve) => setImmediate(resolve));
    const started = performance.now();
    const id = await writer.xadd(key, 'MAXLEN', '~', '1000', '*', 'event', EVENT);
    await read;
    samples.push(performance.now() - started);
    last = id ?? last;
  }
  await writer.del(key);
  writer.disconnect();
  reader.disconnect();
  return samples;
}

async function jobProgress(url: string, prefix: string, count: number): Promise<number[]> {
  const { hostname, port } = new URL(url);
  const connection = { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null };
  const name = 'bench-transport';
  const queue = new Queue(name, { connection, prefix });
  const events = new QueueEvents(name, { connection, prefix });
  await events.waitUntilReady();
  const job = await queue.add('answer', {});
  let resolveNext: (() => void) | undefined;
  events.on('progress', () => resolveNext?.());
  const samples: number[] = [];
  for (let index = 0; index < count; index++) {
    const arrived = new Promise<void>((resolve) => (resolveNext = resolve));
    const started = performance.now();
    await job.updateProgress({ index, event: EVENT });
    await arrived;
    samples.push(performance.now() - started);
  }
  await queue.obliterate({ force: true });
  await events.close();
  await queue.close();
  return samples;
}

/** One event's hop over each transport, `count` events one at a time. */
export async function measureTransports(url: string, prefix: string, count: number): Promise<TransportFigures[]> {
  const figures: TransportFigures[] = [];
  for (const [transport, measure] of [
    ['pub/sub (PUBLISH → SUBSCRIBE)', pubSub],
    ['Redis stream (XADD → XREAD BLOCK)', redisStream],
    ['BullMQ job progress (→ QueueEvents)', jobProgress],
  ] as const) {
    const samples = await measure(url, prefix, count);
    figures.push({ transport, p50: percentile(samples, 50), p95: percentile(samples, 95) });
  }
  return figures;
}
