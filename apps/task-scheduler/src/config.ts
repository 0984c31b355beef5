import { cacheEnv, loadConfig, schedulerEnv, serviceEnv, serviceHttpEnv } from '@quarry/config';

export const schedulerConfigSchema = serviceEnv.extend(serviceHttpEnv(3004).shape).extend(schedulerEnv.shape).extend(cacheEnv.shape);
export type SchedulerConfig = ReturnType<typeof loadSchedulerConfig>;

export function loadSchedulerConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(schedulerConfigSchema, env);
}
