import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { revocationChannel } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import Redis from 'ioredis';
import type { GatewayConfig } from '../config';
import { ApiKeyAuthenticator } from './api-key-authenticator';

const SUBSCRIBE_TIMEOUT_MS = 5000;

/**
 * Makes a revocation take effect at once on every gateway replica: the revoking gateway (or the
 * CLI) publishes the key's hash, and every gateway evicts it from its key cache. Should the publish
 * fail or a message be lost, the cache's TTL bounds how long a replica keeps trusting the key;
 * after a broken subscription reconnects, every cached key is confirmed again.
 */
@Injectable()
export class RevocationBus implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly channel: string;
  private readonly subscriber: Redis;
  private readonly publisher: Redis;
  private subscribed = false;

  constructor(
    @Inject(SERVICE_CONFIG) config: Pick<GatewayConfig, 'REDIS_URL' | 'REDIS_PREFIX'>,
    private readonly authenticator: ApiKeyAuthenticator,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {
    this.channel = revocationChannel(config.REDIS_PREFIX);
    // A subscriber waits out Redis outages (ioredis subscribes again on reconnect); the publisher
    // fails fast, as a revocation is in Postgres already and the TTL covers a lost message.
    this.subscriber = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: null });
    this.publisher = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
    for (const connection of [this.subscriber, this.publisher]) connection.on('error', () => undefined);
    this.subscriber.on('message', (channel: string, keyHash: string) => {
      if (channel === this.channel) this.authenticator.evict(keyHash);
    });
    this.subscriber.on('ready', () => {
      // Every `ready` after the first is a reconnect: messages sent meanwhile were lost.
      if (this.subscribed) this.authenticator.reconfirmAll();
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    try {
      await withTimeout(
        (async () => {
          await this.subscriber.connect();
          await this.subscriber.subscribe(this.channel);
        })(),
        SUBSCRIBE_TIMEOUT_MS,
      );
      this.subscribed = true;
    } catch (error) {
      this.logger.warn('could not subscribe to API key revocations; cached keys are confirmed with Postgres every minute', {
        error: (error as Error).message,
      });
    }
    // Connected before the first request (publishing does not queue while disconnected).
    await withTimeout(this.publisher.connect(), SUBSCRIBE_TIMEOUT_MS).catch(() => undefined);
  }

  /** Tells every gateway (this one included) that the key is revoked; false if Redis could not be told. */
  async publish(keyHash: string): Promise<boolean> {
    this.authenticator.evict(keyHash);
    try {
      await this.publisher.publish(this.channel, keyHash);
      return true;
    } catch (error) {
      this.logger.warn('could not publish an API key revocation; other gateways drop the key within a minute', { error: (error as Error).message });
      return false;
    }
  }

  onModuleDestroy(): void {
    this.subscriber.disconnect();
    this.publisher.disconnect();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
