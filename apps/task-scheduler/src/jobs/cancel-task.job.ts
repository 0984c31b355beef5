import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf, type TaskView } from '@quarry/contracts';
import { TaskSystem } from '../tasks/task-system';

/** Cancels a task of the tenant; a running one is stopped on whichever replica runs it. */
@Controller()
export class CancelTaskJob {
  constructor(private readonly tasks: TaskSystem) {}

  @MessagePattern(JobName.CancelTask)
  handle(@Payload() payload: PayloadOf<typeof JobName.CancelTask>): Promise<TaskView> {
    return this.tasks.manager.cancel(payload.tenantId, payload.taskId);
  }
}
