import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type AnswerStreamEvent, type Citation, type HistoryMessage, JobName, type SearchFilters } from '@quarry/contracts';
import { JOB_CLIENT } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import { AnswerCache } from '../cache/answer-cache';
import { ExchangeRecorder } from '../cache/exchange-recorder';
import { AnswerStreams } from './answer-streams';
import type { QueryReply } from './query.schemas';

/** A question as the gateway's routes hand it on (the tenant comes from the caller's key). */
export interface AskedQuestion {
  question: string;
  filters?: SearchFilters;
  topK?: number;
  conversationId?: string;
  /** Refine rounds the answer may take (default: the agent's AGENT_MAX_REFINEMENTS). */
  maxRefinements?: number;
  /** The conversation so far as the client holds it (the OpenAI-compatible API). */
  history?: HistoryMessage[];
}

/** Whether the answer came from the gateway's answer cache (`hit`), the agent (`miss`), or the cache was not asked (`bypass`). */
export type CacheState = 'hit' | 'miss' | 'bypass';

/** What a streamed answer delivers, in order: the agent's events, then `done` (or `error`) last. */
export type AnswerEvent = Exclude<AnswerStreamEvent, { type: 'end' }> | { type: 'done'; reply: QueryReply } | { type: 'error'; error: unknown };

export interface PreparedAnswer {
  cache: CacheState;
  /** Starts the answer; events arrive through `onEvent` until `done` or `error`. The returned function cancels it. */
  run(onEvent: (event: AnswerEvent) => void): () => void;
}

/**
 * After the reply, how long to wait for the stream's `end` before `done` goes out without it: the
 * reply and the events travel on different connections, so the last tokens may come after the
 * reply; an agent that does not stream (or an event lost to a Redis blip) costs this much at most.
 */
export const END_GRACE_MS = 200;

/** Word-sized pieces whose concatenation is the text: how a whole answer is streamed as tokens. */
export function tokenPieces(text: string): string[] {
  return (text.match(/\S*\s*/g) ?? []).filter((piece) => piece.length > 0);
}

/**
 * Answers questions for the gateway's routes (`POST /api/query`, `/v1/chat/completions`): from the
 * answer cache when the tenant asked the same before on the same corpus (the exchange is still
 * recorded by the agent, behind the reply), else from the agent over its queue — streamed when
 * asked, over the answer stream the gateway subscribed to before sending the question.
 */
@Injectable()
export class QueryAnswers {
  constructor(
    @Inject(JOB_CLIENT) private readonly jobs: JobClient,
    private readonly answers: AnswerCache,
    private readonly recorder: ExchangeRecorder,
    private readonly streams: AnswerStreams,
  ) {}

  /** The whole answer at once. */
  async answer(tenantId: string, asked: AskedQuestion): Promise<{ reply: QueryReply; cache: CacheState }> {
    const started = performance.now();
    const cached = await this.lookup(tenantId, asked);
    if (cached.state === 'hit') return { reply: this.fromCache(tenantId, asked, cached.reply, started), cache: 'hit' };
    const reply = await this.jobs.request(JobName.AnswerQuestion, { tenantId, ...asked });
    if (cached.state === 'miss') this.answers.remember(tenantId, asked, cached.corpusVersion, reply);
    return { reply, cache: cached.state };
  }

  /**
   * Gets a streamed answer ready: the cache is asked, and on a miss the answer stream subscribed
   * (confirmed by Redis, so no event is missed). Fails like `answer` would (Redis down …) before
   * anything is sent to the client.
   */
  async prepare(tenantId: string, asked: AskedQuestion): Promise<PreparedAnswer> {
    const started = performance.now();
    const cached = await this.lookup(tenantId, asked);
    if (cached.state === 'hit') {
      return {
        cache: 'hit',
        run: (onEvent) => {
          replay(this.fromCache(tenantId, asked, cached.reply, started), onEvent);
          return () => undefined;
        },
      };
    }
    const streamId = randomUUID();
    const relay = new StreamRelay();
    const unsubscribe = await this.streams.subscribe(streamId, (event) => relay.event(event));
    return {
      cache: cached.state,
      run: (onEvent) => {
        relay.start(onEvent, unsubscribe);
        this.jobs.request(JobName.AnswerQuestion, { tenantId, ...asked, stream: { id: streamId } }).then(
          (reply) => {
            if (cached.state === 'miss') this.answers.remember(tenantId, asked, cached.corpusVersion, reply);
            relay.reply(reply);
          },
          (error: unknown) => relay.fail(error),
        );
        return () => {
          if (relay.cancel()) this.streams.cancel(streamId);
        };
      },
    };
  }

  private lookup(tenantId: string, asked: AskedQuestion) {
    // An answer that depends on the history the client sent is not the cached answer to the question alone.
    if (asked.history && asked.history.length > 0) return Promise.resolve({ state: 'bypass' as const });
    return this.answers.lookup(tenantId, asked);
  }

  /** A cached answer as a reply of its own (a new conversation and query id); the agent records the exchange. */
  private fromCache(tenantId: string, asked: AskedQuestion, cached: Parameters<typeof AnswerCache.reply>[0], started: number): QueryReply {
    const reply: QueryReply = { ...AnswerCache.reply(cached, performance.now() - started), queryId: randomUUID() };
    this.recorder.record({
      tenantId,
      question: asked.question,
      filters: asked.filters,
      topK: asked.topK,
      conversationId: reply.conversationId,
      answer: reply.answer,
      citations: reply.citations,
      generator: reply.generator,
      source: 'answer-cache',
      totalMs: reply.timings.totalMs,
      queryId: reply.queryId,
    });
    return reply;
  }
}

/** A whole reply as a stream: sources, the answer in word-sized tokens, its citations, done. */
function replay(reply: QueryReply, onEvent: (event: AnswerEvent) => void): void {
  onEvent({ type: 'sources', sources: reply.citations });
  for (const delta of tokenPieces(reply.answer)) onEvent({ type: 'token', delta });
  for (const citation of reply.citations) onEvent({ type: 'citation', citation });
  onEvent({ type: 'done', reply });
}

/**
 * One streamed answer from the agent: relays its events, and sends `done` once both the reply and
 * the stream's `end` are in (or END_GRACE_MS after the reply without `end`). When the agent sent no
 * tokens at all (it does not stream, or the events were lost) the reply's text is sent as tokens
 * first, so concatenated tokens are always the answer; likewise every citation of the reply has
 * had its `citation` event before `done`.
 */
class StreamRelay {
  private onEvent: ((event: AnswerEvent) => void) | undefined;
  private unsubscribe: (() => void) | undefined;
  private readonly early: AnswerStreamEvent[] = [];
  private ended = false;
  private finished = false;
  private replied: QueryReply | undefined;
  private grace: NodeJS.Timeout | undefined;
  private tokens = 0;
  private sources = false;
  private readonly cited = new Set<number>();

  start(onEvent: (event: AnswerEvent) => void, unsubscribe: () => void): void {
    this.onEvent = onEvent;
    this.unsubscribe = unsubscribe;
    for (const event of this.early.splice(0)) this.event(event);
  }

  event(event: AnswerStreamEvent): void {
    if (this.finished) return;
    if (!this.onEvent) {
      this.early.push(event);
      return;
    }
    if (event.type === 'end') {
      this.ended = true;
      if (this.replied) this.done(this.replied);
      return;
    }
    if (event.type === 'token') this.tokens++;
    if (event.type === 'sources') this.sources = true;
    if (event.type === 'citation') this.cited.add(event.citation.index);
    this.onEvent(event);
  }

  reply(reply: QueryReply): void {
    if (this.finished) return;
    this.replied = reply;
    if (this.ended) this.done(reply);
    else this.grace = setTimeout(() => this.done(reply), END_GRACE_MS);
  }

  fail(error: unknown): void {
    if (this.finish()) this.onEvent?.({ type: 'error', error });
  }

  /** True when the answer was still running (so the agent should be told). */
  cancel(): boolean {
    return this.finish();
  }

  private done(reply: QueryReply): void {
    if (!this.finish()) return;
    const emit = this.onEvent ?? (() => undefined);
    if (this.tokens === 0) {
      if (!this.sources) emit({ type: 'sources', sources: reply.citations });
      for (const delta of tokenPieces(reply.answer)) emit({ type: 'token', delta });
    }
    // Every cited passage has had its event by `done`, also those the agent did not stream.
    const missing: Citation[] = reply.citations.filter((citation) => !this.cited.has(citation.index));
    for (const citation of missing) emit({ type: 'citation', citation });
    emit({ type: 'done', reply });
  }

  private finish(): boolean {
    if (this.finished) return false;
    this.finished = true;
    clearTimeout(this.grace);
    this.unsubscribe?.();
    return true;
  }
}
