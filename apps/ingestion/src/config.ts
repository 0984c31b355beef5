import { chunkingEnv, embeddingEnv, llmEnv, loadConfig, parsingEnv, serviceEnv, serviceHttpEnv } from '@quarry/config';

export const ingestionConfigSchema = serviceEnv
  .extend(serviceHttpEnv(3001).shape)
  .extend(parsingEnv.shape)
  .extend(chunkingEnv.shape)
  .extend(embeddingEnv.shape)
  .extend(llmEnv.shape);
export type IngestionConfig = ReturnType<typeof loadIngestionConfig>;

export function loadIngestionConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(ingestionConfigSchema, env);
}
