import { contextEnv, llmEnv, loadConfig, serviceEnv, serviceHttpEnv } from '@quarry/config';

export const agentConfigSchema = serviceEnv.extend(serviceHttpEnv(3003).shape).extend(llmEnv.shape).extend(contextEnv.shape);
export type AgentConfig = ReturnType<typeof loadAgentConfig>;

export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(agentConfigSchema, env);
}
