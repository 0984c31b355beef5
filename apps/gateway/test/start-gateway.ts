import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ApiKeyRole } from '@quarry/domain';
import { ApiKeyRepository } from '@quarry/persistence';
import { type RunningService, runService } from '@quarry/service-kit';
import type { FastifyInstance } from 'fastify';
import { GatewayModule } from '../src/app.module';
import { type GatewayConfig, loadGatewayConfig } from '../src/config';
import { configureGatewayHttp } from '../src/http/configure-http';
import { gatewayHttpOptions } from '../src/http/gateway-http-options';

/**
 * The gateway in-process, set up as apps/gateway/src/main.ts does (the OS picks the port). The
 * first-boot admin key goes to a file under the temp folder, never into the working tree.
 */
export interface StartGatewayOptions {
  /** Runs on the Fastify instance before the gateway's own HTTP setup (e.g. an onRoute hook). */
  beforeHttp?: (fastify: FastifyInstance) => void;
}

export async function startGateway(env: Record<string, string>, options: StartGatewayOptions = {}): Promise<RunningService<GatewayConfig>> {
  const config = loadGatewayConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'error',
    HOST: '127.0.0.1',
    DATABASE_POOL_MAX: '4',
    SHUTDOWN_TIMEOUT_MS: '2000',
    AUTH_BOOTSTRAP_KEY_FILE: join(tmpdir(), `quarry-gateway-test-${randomBytes(6).toString('hex')}`, 'admin-key'),
    ...env,
  });
  return runService({
    name: 'gateway',
    config,
    http: { ...gatewayHttpOptions(config), port: 0 },
    queues: [],
    module: GatewayModule,
    silentLogs: true,
    configureHttp: async (app, kit) => {
      options.beforeHttp?.(app.getHttpAdapter().getInstance());
      await configureGatewayHttp(app, kit);
    },
  });
}

/**
 * For suites about HTTP behaviour rather than authentication: the gateway trusts the tenant in
 * `x-tenant-id`, as behind an authenticating proxy (AUTH_MODE=trusted-header), with every role.
 * Key authentication has suites of its own (api-keys, openapi, error-secrecy, e2e cross-tenant).
 */
export const BEHIND_TRUSTED_PROXY = { AUTH_MODE: 'trusted-header', AUTH_TRUSTED_ROLE: 'admin' } as const;

/** A key made the way the gateway stores them, for in-process tests; the headers to send it with. */
export async function issueTestKey(service: RunningService<GatewayConfig>, tenantId: string, role: ApiKeyRole, expiresAt?: Date): Promise<{ key: string; id: string; headers: Record<string, string> }> {
  const { key, record } = await new ApiKeyRepository(service.kit.dataSource).issue({ tenantId, name: `test ${role} key`, role, expiresAt });
  return { key, id: record.id, headers: { authorization: `Bearer ${key}` } };
}
