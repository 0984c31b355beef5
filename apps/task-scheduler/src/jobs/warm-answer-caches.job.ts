import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf } from '@quarry/contracts';
import { TaskSystem } from '../tasks/task-system';

/** The nightly schedule, or a gateway's cold answer cache: a cache.warm task per tenant asking lately. */
@Controller()
export class WarmAnswerCachesJob {
  constructor(private readonly tasks: TaskSystem) {}

  @EventPattern(JobName.WarmAnswerCaches)
  async handle(@Payload() payload: PayloadOf<typeof JobName.WarmAnswerCaches>): Promise<{ tenants: number; created: number }> {
    const submitted = await this.tasks.warming.warmActiveTenants(payload.trigger, new Date());
    return { tenants: submitted.length, created: submitted.filter((reply) => reply.created).length };
  }
}
