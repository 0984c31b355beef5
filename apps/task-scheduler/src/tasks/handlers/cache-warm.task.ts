import { JobName, QueueName, type TaskParamsOf, WarmAnswersResult } from '@quarry/contracts';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import { abortableDelay } from '@quarry/domain';
import type { TaskHandler, TaskRunContext } from '../task-handler';

const POLL_MS = 250;

/**
 * `cache.warm`: the tenant's most asked questions answered into the answer cache. The agent does
 * the work (agent.warm-answers, skipping questions already cached); this run puts the job on the
 * agent's queue under an id of its own and waits for its result, which becomes the task's.
 */
export class CacheWarmTask implements TaskHandler<'cache.warm'> {
  readonly type = 'cache.warm';

  constructor(private readonly jobs: JobClient) {}

  async run(params: TaskParamsOf<'cache.warm'>, context: TaskRunContext): Promise<unknown> {
    const jobId = `warm-task-${context.taskId}-${context.attempt}`;
    await this.jobs.publish(JobName.WarmAnswers, { tenantId: context.tenantId, topN: params.topN, sinceDays: params.sinceDays }, { jobId });
    context.progress(5, 'warming queued on the agent');
    const queue = this.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Agent);
    for (;;) {
      const job = await queue.getJob(jobId);
      if (!job) throw new Error(`the warming job ${jobId} vanished from the agent queue`);
      const state = await job.getState();
      if (state === 'completed') return WarmAnswersResult.parse(job.returnvalue);
      if (state === 'failed') throw new Error(`the agent could not warm the cache: ${job.failedReason ?? 'no reason given'}`);
      await abortableDelay(POLL_MS, context.signal).catch(async (error: unknown) => {
        // Stopped (cancel, timeout, shutdown): a warming that has not started is taken back.
        await job.remove().catch(() => undefined);
        throw error;
      });
    }
  }
}
