import { cacheEnv, embeddingEnv, indexSyncEnv, loadConfig, retrievalCacheEnv, serviceEnv, serviceHttpEnv, vectorBackendEnv } from '@quarry/config';

export const retrievalConfigSchema = serviceEnv
  .extend(serviceHttpEnv(3002).shape)
  .extend(embeddingEnv.shape)
  .extend(vectorBackendEnv.shape)
  .extend(indexSyncEnv.shape)
  .extend(cacheEnv.shape)
  .extend(retrievalCacheEnv.shape);
export type RetrievalConfig = ReturnType<typeof loadRetrievalConfig>;

export function loadRetrievalConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(retrievalConfigSchema, env);
}
