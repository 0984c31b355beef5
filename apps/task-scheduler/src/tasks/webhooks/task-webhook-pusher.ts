import type { TaskView, TaskWebhookDelivery } from '@quarry/contracts';
import type { Logger } from '@quarry/observability';
import type { TaskRepository } from '@quarry/persistence';
import { Webhook } from 'standardwebhooks';
import { WebhookAddressRefused, type WebhookSender } from './webhook-sender';

/** The push's event type, named after how the task ended. */
const EVENT_OF: Partial<Record<TaskView['status'], string>> = { completed: 'task.completed', failed: 'task.failed', cancelled: 'task.cancelled' };

/** What the delivery job does with a try that did not reach the receiver. */
export class WebhookTryFailed extends Error {}

/**
 * Pushes an ended task to its webhook, signed as Standard Webhooks signs, and records each try on
 * the task. A try that fails throws WebhookTryFailed (the queue job is retried with backoff) unless
 * it was the last one; a refused address is final at once.
 */
export class TaskWebhookPusher {
  constructor(
    private readonly tasks: TaskRepository,
    private readonly sender: WebhookSender,
    private readonly logger: Logger,
  ) {}

  async push(tenantId: string, taskId: string, attempt: { number: number; last: boolean }): Promise<void> {
    const target = await this.tasks.webhookTarget(tenantId, taskId);
    const type = target && EVENT_OF[target.task.status];
    if (!target || !type) {
      this.logger.info('webhook push skipped: no ended task of this tenant with a webhook', { taskId });
      return;
    }
    if (target.task.webhook?.delivery?.status === 'delivered') return;
    // The push carries the task as GET /api/tasks/{id} shows it, without the delivery it is part of.
    const body = JSON.stringify({ type, timestamp: new Date().toISOString(), data: { ...target.task, webhook: { url: target.url } } });
    // One id per push, the same on every try, so a receiver can drop a push it has seen.
    const messageId = `task_${taskId}_${target.task.status}`;
    const now = new Date();
    const signature = new Webhook(target.secret).sign(messageId, now, body);
    const headers = { 'webhook-id': messageId, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature };

    const record = (delivery: Omit<TaskWebhookDelivery, 'attempts'>) => this.tasks.recordWebhookDelivery(tenantId, taskId, { ...delivery, attempts: attempt.number });
    try {
      const status = await this.sender.send(target.url, body, headers);
      if (status >= 200 && status < 300) {
        await record({ status: 'delivered', responseStatus: status, error: null, deliveredAt: new Date().toISOString() });
        this.logger.info('task webhook delivered', { taskId, attempt: attempt.number, responseStatus: status });
        return;
      }
      await record({ status: attempt.last ? 'failed' : 'retrying', responseStatus: status, error: `the receiver answered ${status}`, deliveredAt: null });
      if (!attempt.last) throw new WebhookTryFailed(`the receiver answered ${status}`);
    } catch (error) {
      if (error instanceof WebhookTryFailed) throw error;
      const refused = error instanceof WebhookAddressRefused;
      const message = (error as Error).message;
      await record({ status: refused ? 'refused' : attempt.last ? 'failed' : 'retrying', responseStatus: null, error: message, deliveredAt: null });
      this.logger.warn('task webhook not delivered', { taskId, attempt: attempt.number, error: message, final: refused || attempt.last });
      if (!refused && !attempt.last) throw new WebhookTryFailed(message);
    }
  }
}
