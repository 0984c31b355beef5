import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf, type SubmitTaskReply } from '@quarry/contracts';
import { TaskSystem } from '../tasks/task-system';

/** Stores a submitted task (or returns the one its idempotency key names) and queues it when it can run. */
@Controller()
export class SubmitTaskJob {
  constructor(private readonly tasks: TaskSystem) {}

  @MessagePattern(JobName.SubmitTask)
  handle(@Payload() payload: PayloadOf<typeof JobName.SubmitTask>): Promise<SubmitTaskReply> {
    return this.tasks.manager.submit(payload);
  }
}
