import { agentLoopEnv, answerCacheEnv, cacheEnv, contextEnv, llmEnv, llmResponseCacheEnv, loadConfig, queryVariantsEnv, serviceEnv, serviceHttpEnv } from '@quarry/config';

export const agentConfigSchema = serviceEnv
  .extend(serviceHttpEnv(3003).shape)
  .extend(llmEnv.shape)
  .extend(contextEnv.shape)
  .extend(queryVariantsEnv.shape)
  .extend(cacheEnv.shape)
  .extend(answerCacheEnv.shape)
  .extend(llmResponseCacheEnv.shape)
  .extend(agentLoopEnv.shape)
  .superRefine((env, context) => {
    // Rephrasings come from the chat model; asking for them without one is a configuration mistake.
    if (env.QUERY_VARIANTS > 0 && !(env.LLM_BASE_URL && env.LLM_MODEL)) {
      context.addIssue({ code: 'custom', path: ['QUERY_VARIANTS'], message: 'QUERY_VARIANTS needs a chat model: set LLM_BASE_URL and LLM_MODEL, or set QUERY_VARIANTS=0' });
    }
  });
export type AgentConfig = ReturnType<typeof loadAgentConfig>;

export function loadAgentConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(agentConfigSchema, env);
}
