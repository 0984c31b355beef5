import { authEnv, gatewayHttpEnv, limitsEnv, loadConfig, serviceEnv } from '@quarry/config';

export const gatewayConfigSchema = serviceEnv.extend(gatewayHttpEnv.shape).extend(authEnv.shape).extend(limitsEnv.shape);
export type GatewayConfig = ReturnType<typeof loadGatewayConfig>;

export function loadGatewayConfig(env: NodeJS.ProcessEnv = process.env) {
  return loadConfig(gatewayConfigSchema, env);
}
