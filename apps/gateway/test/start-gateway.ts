import 'reflect-metadata';
import { type RunningService, runService } from '@quarry/service-kit';
import { GatewayModule } from '../src/app.module';
import { type GatewayConfig, loadGatewayConfig } from '../src/config';
import { configureGatewayHttp } from '../src/http/configure-http';
import { gatewayHttpOptions } from '../src/http/gateway-http-options';

/** The gateway in-process, set up as apps/gateway/src/main.ts does (the OS picks the port). */
export async function startGateway(env: Record<string, string>): Promise<RunningService<GatewayConfig>> {
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    DATABASE_POOL_MAX: '4',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...env,
  });
  return runService({
    name: 'gateway',
    config,
    http: { ...gatewayHttpOptions(config), port: 0 },
    queues: [],
    module: GatewayModule,
    silentLogs: true,
    configureHttp: configureGatewayHttp,
  });
}
