import { cacheEnv, loadConfig, schedulerEnv, serviceEnv, serviceHttpEnv } from '@quarry/config';
import { z } from 'zod';

/** Settings of the task-scheduler's own task types. */
const taskTypesEnv = z.object({
  /** The folder eval.run may read BEIR datasets from (a task names one relative to it); unset: eval.run takes only labelled questions. */
  EVAL_DATA_DIR: z.string().trim().min(1).optional(),
});

export const schedulerConfigSchema = serviceEnv.extend(serviceHttpEnv(3004).shape).extend(schedulerEnv.shape).extend(cacheEnv.shape).extend(taskTypesEnv.shape);
export type SchedulerConfig = ReturnType<typeof loadSchedulerConfig>;

export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(schedulerConfigSchema, env);
}
