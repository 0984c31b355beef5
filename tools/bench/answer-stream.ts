/**
 * `npm run bench:stream` — what streaming an answer costs at the gateway. The gateway runs alone as
 * a real process (built by `npm run build`) on its own Postgres schema and Redis prefix; in the
 * agent's place this process runs a stand-in (a BullMQ worker on the agent queue) that publishes
 * its answer through the real AnswerStreamPublisher the moment it picks the question up (sources,
 * then the answer as tokens, then `end`), and replies.
 *
 * Per run, in alternating blocks, one request at a time (BENCH_ROUNDS per condition, default 200):
 *  - streamed: `POST /api/query` with `"stream": true`: time to the first `token` event, and to `done`;
 *  - plain: the same question without streaming: time to the whole JSON reply — the floor, the
 *    stand-in's reply time through the gateway;
 *  - relay: from the stand-in's PUBLISH of the first token to its arrival at the client (same
 *    process, same clock): what the gateway (Redis hop, relay, SSE write) adds to a model's own
 *    first-token time.
 * Prints p50/p95 of each run and the medians over BENCH_RUNS runs (default 3). The answer cache
 * is off (every question reaches the stand-in). Targets: first token p50 ≤ 50 ms; relay p50 ≤ 5 ms.
 * Then one event's hop over each transport the issue names (pub/sub, a Redis stream, BullMQ job
 * progress), BENCH_TRANSPORT_EVENTS (default 500) events one at a time: why pub/sub was chosen.
 */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { type AnswerQuestionReply, type Citation, JobName, type PayloadOf, QueueName } from '@quarry/contracts';
import { ServiceStack, createTestRedisPrefix, createTestSchema, freePort } from '@quarry/testing';
import { AnswerStreamPublisher } from '@quarry/transport';
import { type Job, Worker } from 'bullmq';
import { measureTransports } from './answer-stream-transports';
import { percentile } from './stats';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const BLOCKS = 4;
const WARMUP = 30;
const TENANT = 'bench-stream';
const TARGET_FIRST_TOKEN_MS = 50;
const TARGET_RELAY_MS = 5;
const TRANSPORT_EVENTS = Number(process.env.BENCH_TRANSPORT_EVENTS ?? 500);

const ANSWER = 'Employees receive 27 days of paid vacation per calendar year [1], approved by their manager [2]; unused days expire at the end of March [1].';
const CITATIONS: Citation[] = [1, 2].map((index) => ({
  index,
  documentId: randomUUID(),
  chunkId: randomUUID(),
  filename: `doc-${index}.md`,
  snippet: 'Every employee receives 27 days of paid vacation per calendar year.',
  score: 1 / index,
  provenance: {},
}));

interface Sample {
  firstTokenMs: number;
  doneMs: number;
  relayMs: number;
}

interface Phase {
  p50: number;
  p95: number;
}

const phaseOf = (values: number[]): Phase => ({ p50: percentile(values, 50), p95: percentile(values, 95) });
const median = (values: number[]) => percentile(values, 50);
const fmt = (ms: number) => `${ms.toFixed(2)} ms`;

/** The stand-in agent: publishes the whole answer at once when asked to stream; notes when its first token left. */
async function startStandIn(target: { url: string; prefix: string }, firstTokenAt: Map<string, number>): Promise<() => Promise<void>> {
  const publisher = new AnswerStreamPublisher(target);
  await publisher.start();
  const tokens = ANSWER.match(/\S*\s*/g)?.filter(Boolean) ?? [];
  const { hostname, port } = new URL(target.url);
  const worker = new Worker(
    QueueName.Agent,
    (job: Job) => {
      if (job.name !== JobName.AnswerQuestion) return Promise.resolve(null);
      const payload = job.data as PayloadOf<typeof JobName.AnswerQuestion>;
      if (payload.stream) {
        const stream = publisher.open(payload.stream.id);
        stream.emit({ type: 'sources', sources: CITATIONS });
        firstTokenAt.set(payload.question, performance.now());
        for (const delta of tokens) stream.emit({ type: 'token', delta });
        stream.close();
      }
      const reply: AnswerQuestionReply = { answer: ANSWER, citations: CITATIONS, generator: 'stand-in', conversationId: randomUUID(), timings: { retrievalMs: 0, generationMs: 0, totalMs: 0 } };
      return Promise.resolve(reply);
    },
    { connection: { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null }, prefix: target.prefix, concurrency: 4 },
  );
  await worker.waitUntilReady();
  return async () => {
    await worker.close();
    await publisher.close();
  };
}

function post(url: string, body: unknown): { response: Promise<import('node:http').IncomingMessage> } {
  const response = new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'x-tenant-id': TENANT } }, resolve);
    request.once('error', reject);
    request.end(JSON.stringify(body));
  });
  return { response };
}

/** One streamed question: when its first token and its `done` arrived. */
async function streamed(gatewayUrl: string, question: string, firstTokenAt: Map<string, number>): Promise<Sample> {
  const started = performance.now();
  const response = await post(`${gatewayUrl}/api/query`, { question, stream: true }).response;
  if (response.statusCode !== 200) throw new Error(`streamed query answered ${response.statusCode}`);
  return new Promise((resolve, reject) => {
    let firstToken: number | undefined;
    let buffered = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      const now = performance.now();
      buffered += chunk;
      if (firstToken === undefined && buffered.includes('event: token\n')) firstToken = now;
      if (buffered.includes('event: done\n')) {
        const published = firstTokenAt.get(question);
        firstTokenAt.delete(question);
        if (firstToken === undefined || published === undefined) reject(new Error(`no token before done for "${question}"`));
        else resolve({ firstTokenMs: firstToken - started, doneMs: now - started, relayMs: firstToken - published });
        response.destroy();
      }
    });
    response.once('error', reject);
  });
}

/** One plain question: the whole JSON reply. */
async function plain(gatewayUrl: string, question: string): Promise<number> {
  const started = performance.now();
  const response = await post(`${gatewayUrl}/api/query`, { question }).response;
  if (response.statusCode !== 200) throw new Error(`plain query answered ${response.statusCode}`);
  for await (const _chunk of response) {
    // read to the end
  }
  return performance.now() - started;
}

async function main(): Promise<void> {
  const schema = await createTestSchema('bench-stream');
  const redis = createTestRedisPrefix('bench-stream');
  const env = { LOG_LEVEL: 'warn', AUTH_MODE: 'trusted-header', AUTH_TRUSTED_ROLE: 'read', RATE_LIMIT_PER_MINUTE: '0', ANSWER_CACHE_TTL_SECONDS: '0' };
  const stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix, env });
  const firstTokenAt = new Map<string, number>();
  let stopStandIn: (() => Promise<void>) | undefined;
  try {
    stack.ports.set('gateway', await freePort());
    await stack.startService('gateway');
    stopStandIn = await startStandIn(redis, firstTokenAt);
    const gatewayUrl = stack.gatewayUrl;
    let asked = 0;
    const question = () => `How many vacation days do we get? (#${++asked})`;
    for (let index = 0; index < WARMUP; index++) {
      await streamed(gatewayUrl, question(), firstTokenAt);
      await plain(gatewayUrl, question());
    }

    const runs: Array<{ firstToken: Phase; done: Phase; relay: Phase; plain: Phase }> = [];
    for (let run = 1; run <= RUNS; run++) {
      const samples: Sample[] = [];
      const plains: number[] = [];
      const perBlock = Math.ceil(ROUNDS / BLOCKS);
      for (let block = 0; block < BLOCKS; block++) {
        for (let index = 0; index < perBlock; index++) samples.push(await streamed(gatewayUrl, question(), firstTokenAt));
        for (let index = 0; index < perBlock; index++) plains.push(await plain(gatewayUrl, question()));
      }
      const figures = {
        firstToken: phaseOf(samples.map((sample) => sample.firstTokenMs)),
        done: phaseOf(samples.map((sample) => sample.doneMs)),
        relay: phaseOf(samples.map((sample) => sample.relayMs)),
        plain: phaseOf(plains),
      };
      runs.push(figures);
      console.log(
        `run ${run}: first token p50 ${fmt(figures.firstToken.p50)} p95 ${fmt(figures.firstToken.p95)} | done p50 ${fmt(figures.done.p50)} | ` +
          `plain reply p50 ${fmt(figures.plain.p50)} p95 ${fmt(figures.plain.p95)} | relay p50 ${fmt(figures.relay.p50)} p95 ${fmt(figures.relay.p95)}`,
      );
    }
    const med = (pick: (figures: (typeof runs)[number]) => number) => median(runs.map(pick));
    const firstP50 = med((figures) => figures.firstToken.p50);
    const plainP50 = med((figures) => figures.plain.p50);
    const relayP50 = med((figures) => figures.relay.p50);
    console.log(`\nmedians of ${RUNS} runs, ${ROUNDS} requests per condition each:`);
    console.log(`  first token (stream: true)     p50 ${fmt(firstP50)}  p95 ${fmt(med((figures) => figures.firstToken.p95))}  (target p50 ≤ ${TARGET_FIRST_TOKEN_MS} ms: ${firstP50 <= TARGET_FIRST_TOKEN_MS ? 'met' : 'NOT met'})`);
    console.log(`  done (stream: true)            p50 ${fmt(med((figures) => figures.done.p50))}  p95 ${fmt(med((figures) => figures.done.p95))}`);
    console.log(`  plain reply (floor)            p50 ${fmt(plainP50)}  p95 ${fmt(med((figures) => figures.plain.p95))}`);
    console.log(`  first token − plain reply      p50 ${fmt(firstP50 - plainP50)}  (what streaming adds before the first token)`);
    console.log(`  relay (publish → client)       p50 ${fmt(relayP50)}  p95 ${fmt(med((figures) => figures.relay.p95))}  (target p50 ≤ ${TARGET_RELAY_MS} ms: ${relayP50 <= TARGET_RELAY_MS ? 'met' : 'NOT met'})`);
    if (TRANSPORT_EVENTS > 0) {
      console.log(`\none event's hop per transport (${TRANSPORT_EVENTS} events, one at a time):`);
      for (const figure of await measureTransports(redis.url, redis.prefix, TRANSPORT_EVENTS)) {
        console.log(`  ${figure.transport.padEnd(38)} p50 ${fmt(figure.p50)}  p95 ${fmt(figure.p95)}`);
      }
    }
  } finally {
    await stopStandIn?.();
    await stack.stop();
    await redis.cleanup();
    await schema.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
