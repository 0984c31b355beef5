import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type AnswerQuestionReply, type Citation, JobName, type PayloadOf, QueueName } from '@quarry/contracts';
import type { TestRedisPrefix } from '@quarry/testing';
import { AnswerStreamPublisher } from '@quarry/transport';
import { type Job, Worker } from 'bullmq';

export type AskedPayload = PayloadOf<typeof JobName.AnswerQuestion>;

/** What a broken dependency deep down might say; none of it may reach a client. */
export const AGENT_SECRET = 'password=hunter2 at db.internal:5432';

export const citationOf = (index: number, filename: string, snippet: string): Citation => ({
  index,
  documentId: randomUUID(),
  chunkId: randomUUID(),
  filename,
  snippet,
  score: 1 / index,
  provenance: {},
});

/** How the stand-in answers, chosen by the question's first word. */
export interface StreamingAgent {
  asked: AskedPayload[];
  /** Stream ids whose answer was cancelled (the signal aborted) while it ran. */
  aborted: string[];
  recorded: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

function replyTo(question: string, citations: Citation[]): AnswerQuestionReply {
  return {
    answer: `About ${question}: employees receive 27 days of paid vacation [1], approved by their manager [2].`,
    citations,
    generator: 'stand-in',
    conversationId: randomUUID(),
    queryId: randomUUID(),
    timings: { retrievalMs: 1, generationMs: 1, totalMs: 2 },
    usage: { promptTokens: 11, completionTokens: 7, totalTokens: 18 },
  };
}

/**
 * In the agent's place, a plain BullMQ worker on the agent queue (as any consumer of the public
 * contract may be) that publishes the answer's events through the real AnswerStreamPublisher:
 *  - any question: steps, sources, the answer in tokens, citations, `end`, then the reply;
 *  - `slow …`: a token every 20 ms until the gateway cancels (recorded in `aborted`);
 *  - `quiet …`: no events at all, only the reply (an agent that does not stream);
 *  - `late …`: the reply first, the events 50 ms after it;
 *  - `fail …`: throws an error carrying a secret.
 * The other agent jobs (exchanges answered from the gateway's cache, warming) are recorded or ignored.
 */
export async function startStreamingAgent(redis: TestRedisPrefix): Promise<StreamingAgent> {
  const publisher = new AnswerStreamPublisher(redis);
  await publisher.start();
  const asked: AskedPayload[] = [];
  const aborted: string[] = [];
  const recorded: Array<Record<string, unknown>> = [];
  const citations = [citationOf(1, 'handbook.md', 'Every employee receives 27 days of paid vacation per calendar year.'), citationOf(2, 'policies/leave.md', 'Leave is approved by the manager.')];

  async function answer(payload: AskedPayload): Promise<AnswerQuestionReply> {
    asked.push(payload);
    const [kind] = payload.question.split(' ');
    const reply = replyTo(payload.question, citations);
    if (kind === 'fail') throw new Error(AGENT_SECRET);
    if (kind === 'quiet' || !payload.stream) return reply;
    const stream = publisher.open(payload.stream.id);
    const emitAll = () => {
      stream.emit({ type: 'step', node: 'retrieve', phase: 'start' });
      stream.emit({ type: 'sources', sources: citations });
      stream.emit({ type: 'step', node: 'retrieve', phase: 'end', durationMs: 1 });
      for (const delta of reply.answer.match(/\S*\s*/g)?.filter(Boolean) ?? []) stream.emit({ type: 'token', delta });
      for (const citation of citations) stream.emit({ type: 'citation', citation });
      stream.close();
    };
    if (kind === 'slow') {
      const until = Date.now() + 10_000;
      while (!stream.signal.aborted && Date.now() < until) {
        stream.emit({ type: 'token', delta: 'more ' });
        await sleep(20);
      }
      if (stream.signal.aborted) aborted.push(payload.stream.id);
      stream.close();
      return reply;
    }
    if (kind === 'late') {
      setTimeout(emitAll, 50);
      return reply;
    }
    emitAll();
    return reply;
  }

  const { hostname, port } = new URL(redis.url);
  const worker = new Worker(
    QueueName.Agent,
    async (job: Job) => {
      switch (job.name) {
        case JobName.AnswerQuestion:
          return answer(job.data as AskedPayload);
        case JobName.RecordExchange:
          recorded.push(job.data as Record<string, unknown>);
          return null;
        case JobName.RecordExchanges:
          recorded.push(...(job.data as { exchanges: Array<Record<string, unknown>> }).exchanges);
          return null;
        case JobName.WarmAnswers:
          return null;
        default:
          throw new Error(`the stand-in agent has no handler for ${job.name}`);
      }
    },
    { connection: { host: hostname, port: Number(port || 6379), maxRetriesPerRequest: null }, prefix: redis.prefix, concurrency: 8 },
  );
  await worker.waitUntilReady();
  return {
    asked,
    aborted,
    recorded,
    close: async () => {
      await worker.close();
      await publisher.close();
    },
  };
}
