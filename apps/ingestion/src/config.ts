import { chunkingEnv, embeddingEnv, llmEnv, loadConfig, serviceEnv, serviceHttpEnv } from '@quarry/config';

export const ingestionConfigSchema = serviceEnv
  .extend(serviceHttpEnv(3001).shape)
  .extend(chunkingEnv.shape)
  .extend(embeddingEnv.shape)
  .extend(llmEnv.shape);
export type IngestionConfig = ReturnType<typeof loadIngestionConfig>;

export function loadIngestionConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(ingestionConfigSchema, env);
}
