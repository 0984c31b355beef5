import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { AnswerStreamEvent } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import { type AnswerStreamHandle, AnswerStreamPublisher } from '@quarry/transport';
import type { AgentConfig } from '../config';

/** Inject the relay by this token (or by its class). */
export const ANSWER_STREAM_RELAY = Symbol('ANSWER_STREAM_RELAY');

const WARN_EVERY_MS = 10_000;

/** What an answer that was not asked to stream gets: emits go nowhere, the signal never aborts. */
const SILENT: AnswerStreamHandle = Object.freeze({
  emit: (_event: AnswerStreamEvent) => undefined,
  signal: new AbortController().signal,
  close: () => undefined,
});

/**
 * The agent's end of answer streams (see AnswerStreamPublisher): an answer asked with
 * `stream: { id }` publishes its steps, sources, token deltas and citations as it works, and
 * stops when the gateway cancels it (its client went away). Connected before the agent takes its
 * first job, closed after the last one finished (shutdown hooks run after the consumer stopped).
 *
 *   const stream = this.relay.open(request.stream?.id);
 *   try { ...graph.invoke(state, { signal: stream.signal }) ... stream.emit({ type: 'token', delta }) }
 *   finally { stream.close(); }
 */
@Injectable()
export class AnswerStreamRelay implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly publisher: AnswerStreamPublisher;
  private warnedAt = 0;

  constructor(
    @Inject(SERVICE_CONFIG) config: Pick<AgentConfig, 'REDIS_URL' | 'REDIS_PREFIX'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.publisher = new AnswerStreamPublisher(
      { url: config.REDIS_URL, prefix: config.REDIS_PREFIX },
      {
        // While Redis is away every event fails: said once per interval, not once per token.
        onError: (what, error) => {
          const now = Date.now();
          if (now - this.warnedAt < WARN_EVERY_MS) return;
          this.warnedAt = now;
          this.logger.warn(what, { error: (error as Error)?.message });
        },
      },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.publisher.start();
    } catch (error) {
      // Answers still work (their replies go over the queue); only live progress and cancels are lost.
      this.logger.warn('could not connect answer streams; answers are not streamed until Redis is back', { error: (error as Error).message });
    }
  }

  /** The stream of an answer; without an id (the request did not ask to stream) a handle that does nothing. */
  open(streamId: string | undefined): AnswerStreamHandle {
    return streamId === undefined ? SILENT : this.publisher.open(streamId);
  }

  get openStreams(): number {
    return this.publisher.openStreams;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.publisher.close();
  }
}
