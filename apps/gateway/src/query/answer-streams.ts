import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown, type OnModuleDestroy } from '@nestjs/common';
import { type AnswerStreamEvent, ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import { AnswerStreamHub } from '@quarry/transport';
import type { GatewayConfig } from '../config';

/** Told when the gateway shuts down while the stream is open. */
export type ShutdownListener = () => void;

/**
 * The gateway's one AnswerStreamHub: a subscriber connection shared by every streamed answer of
 * this process, connected before the first request and closed after the last stream ended.
 * Streams still open at shutdown are told (they end with an error event) before the HTTP server
 * waits for its connections.
 */
@Injectable()
export class AnswerStreams implements OnApplicationBootstrap, OnModuleDestroy, OnApplicationShutdown {
  private readonly hub: AnswerStreamHub;
  private readonly open = new Set<ShutdownListener>();

  constructor(
    @Inject(SERVICE_CONFIG) config: Pick<GatewayConfig, 'REDIS_URL' | 'REDIS_PREFIX'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.hub = new AnswerStreamHub(
      { url: config.REDIS_URL, prefix: config.REDIS_PREFIX },
      { onError: (what, error) => this.logger.warn(what, { error: (error as Error)?.message }) },
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await this.hub.start();
    } catch (error) {
      // The connections retry by themselves; a streamed question meanwhile fails like any other while Redis is away.
      this.logger.warn('could not connect answer streams yet', { error: (error as Error).message });
    }
  }

  /** Listens to a stream (resolved once Redis confirmed it); the returned function stops. */
  async subscribe(streamId: string, onEvent: (event: AnswerStreamEvent) => void): Promise<() => void> {
    try {
      return await this.hub.subscribe(streamId, onEvent);
    } catch (error) {
      this.logger.warn('could not subscribe to an answer stream', { error: (error as Error).message });
      throw new DomainError(ErrorCode.ServiceUnavailable, 'Redis is unavailable: answers cannot be streamed right now; retry shortly');
    }
  }

  /** Asks the agent to stop the answer of the stream (its client left). */
  cancel(streamId: string): void {
    void this.hub.cancel(streamId);
  }

  /** Registers an open stream for shutdown; the returned function forgets it. */
  track(onShutdown: ShutdownListener): () => void {
    this.open.add(onShutdown);
    return () => this.open.delete(onShutdown);
  }

  get openStreams(): number {
    return this.open.size;
  }

  onModuleDestroy(): void {
    const listeners = [...this.open];
    this.open.clear();
    for (const listener of listeners) listener();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.hub.close();
  }
}
