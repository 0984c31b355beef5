import { answerCacheEnv, authEnv, cacheEnv, gatewayHttpEnv, limitsEnv, loadConfig, serviceEnv } from '@quarry/config';

export const gatewayConfigSchema = serviceEnv.extend(gatewayHttpEnv.shape).extend(authEnv.shape).extend(limitsEnv.shape).extend(cacheEnv.shape).extend(answerCacheEnv.shape);
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(gatewayConfigSchema, env);
}
