import IORedis, { type Redis } from 'ioredis';
import { type RedisTarget, redisOptionsFromUrl } from './redis-connection';

/** Channel: `<REDIS_PREFIX>:task-cancel`, beside the BullMQ keys of the same deployment. */
export const taskCancelChannel = (redisPrefix: string) => `${redisPrefix}:task-cancel`;

/**
 * Tells every task-scheduler replica that a task was cancelled, so the one running it aborts its
 * handler. Pub/sub keeps nothing for a replica that is away — acceptable because the cancel is
 * in Postgres first: a run that misses the message still cannot write its outcome (its run token
 * is gone) and sees the cancel at its next progress report.
 */
export class TaskCancelChannel {
  private subscriber: Redis | undefined;
  private readonly publisher: Redis;
  private readonly channel: string;

  constructor(private readonly target: RedisTarget) {
    this.channel = taskCancelChannel(target.prefix);
    this.publisher = new IORedis(target.url, { ...redisOptionsFromUrl(target.url, 'producer'), lazyConnect: true });
  }

  /** Listens for cancels; resolves once Redis confirmed the subscription. */
  async listen(onCancel: (cancel: { tenantId: string; taskId: string }) => void): Promise<void> {
    this.subscriber = new IORedis(this.target.url, redisOptionsFromUrl(this.target.url, 'consumer'));
    this.subscriber.on('error', () => undefined);
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        const parsed = JSON.parse(message) as { tenantId?: unknown; taskId?: unknown };
        if (typeof parsed.tenantId === 'string' && typeof parsed.taskId === 'string') onCancel({ tenantId: parsed.tenantId, taskId: parsed.taskId });
      } catch {
        // Not ours: the channel is shared by name only.
      }
    });
    await this.subscriber.subscribe(this.channel);
  }

  /** Announces a cancel; how many replicas heard it. */
  async announce(tenantId: string, taskId: string): Promise<number> {
    if (this.publisher.status === 'wait') await this.publisher.connect();
    return this.publisher.publish(this.channel, JSON.stringify({ tenantId, taskId }));
  }

  close(): void {
    this.subscriber?.disconnect();
    this.publisher.disconnect();
  }
}
