import { BaseRpcContext } from '@nestjs/microservices';
import type { Job } from 'bullmq';

/** What a handler can ask about the job it is running (`@Ctx() ctx: BullMqContext`). */
export class BullMqContext extends BaseRpcContext<[Job]> {
  getJob(): Job {
    return this.args[0];
  }

  /** True when this is the last attempt BullMQ will make, so the handler should record the failure. */
  isFinalAttempt(): boolean {
    const job = this.getJob();
    return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  }
}
