import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf } from '@quarry/contracts';
import type { BullMqContext } from '@quarry/transport';
import { TaskSystem } from '../tasks/task-system';

/** One run of a task. A job handed on after its worker died (BullMQ's stalled check) takes its run over, if no newer run has started. */
@Controller()
export class RunTaskJob {
  constructor(private readonly tasks: TaskSystem) {}

  @EventPattern(JobName.RunTask)
  handle(@Payload() payload: PayloadOf<typeof JobName.RunTask>, @Ctx() context: BullMqContext): Promise<void> {
    const stalled = (context.getJob().stalledCounter ?? 0) > 0;
    return this.tasks.runner.run({ tenantId: payload.tenantId, taskId: payload.taskId, takeOverRun: stalled ? (payload.run ?? null) : null });
  }
}
