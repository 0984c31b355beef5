/**
 * The floors of bench:load, in a process of their own (as a service is): a bare Fastify server that
 * parses a JSON body and answers a small object, and a BullMQ echo worker (the raw request/reply
 * round trip, no Quarry code). Prints `{"port": n}` once both are ready; exits on SIGTERM.
 * Env: FLOOR_REDIS_URL, FLOOR_REDIS_PREFIX, FLOOR_QUEUE.
 */
import { redisOptionsFromUrl } from '@quarry/transport';
import { Worker } from 'bullmq';
import Fastify from 'fastify';

async function main(): Promise<void> {
  const app = Fastify({ logger: false });
  app.post('/echo', (request) => {
    const body = request.body as { question?: unknown };
    return { ok: true, length: typeof body.question === 'string' ? body.question.length : 0 };
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const url = process.env.FLOOR_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const worker = new Worker(process.env.FLOOR_QUEUE ?? 'bench-load-echo', (job) => Promise.resolve(job.data as unknown), {
    connection: redisOptionsFromUrl(url),
    prefix: process.env.FLOOR_REDIS_PREFIX,
    concurrency: 64,
  });
  await worker.waitUntilReady();
  process.stdout.write(`${JSON.stringify({ port })}\n`);

  process.once('SIGTERM', () => {
    void Promise.allSettled([worker.close(), app.close()]).then(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
