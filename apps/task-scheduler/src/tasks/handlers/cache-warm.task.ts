import { JobName, QueueName, type TaskParamsOf, WarmAnswersResult } from '@quarry/contracts';
import type { JobClient, QueueRegistry } from '@quarry/transport';
import { followJob } from '../followed-job';
import type { TaskHandler, TaskRunContext } from '../task-handler';

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
    const end = await followJob(this.jobs.proxy.unwrap<QueueRegistry>(), QueueName.Agent, jobId, context.signal);
    if (end.state === 'failed') throw new Error(`the agent could not warm the cache: ${end.reason}`);
    return WarmAnswersResult.parse(end.value);
  }
}
