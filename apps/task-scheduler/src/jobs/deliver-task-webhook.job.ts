import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf } from '@quarry/contracts';
import type { BullMqContext } from '@quarry/transport';
import { TaskSystem } from '../tasks/task-system';

/** Pushes an ended task to its webhook; a failed try is retried by BullMQ with backoff (the contract's attempts). */
@Controller()
export class DeliverTaskWebhookJob {
  constructor(private readonly tasks: TaskSystem) {}

  @EventPattern(JobName.DeliverTaskWebhook)
  handle(@Payload() payload: PayloadOf<typeof JobName.DeliverTaskWebhook>, @Ctx() context: BullMqContext): Promise<void> {
    return this.tasks.webhooks.push(payload.tenantId, payload.taskId, { number: context.getJob().attemptsMade + 1, last: context.isFinalAttempt() });
  }
}
