import type { ServiceDefinition } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';
import { httpTimeouts } from '../limits/http-timeouts';
import { handleClientError, handleFrameworkError } from './client-errors';

/** JSON bodies (queries) are small; uploads are multipart and have their own limits. */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

/** The gateway's HTTP server settings (main.ts and the tests use the same ones). */
export function gatewayHttpOptions(config: GatewayConfig): ServiceDefinition<GatewayConfig>['http'] {
  return {
    port: config.PORT,
    host: config.HOST,
    bodyLimit: JSON_BODY_LIMIT_BYTES,
    // A request that runs out of time is answered 408 by handleClientError (ERR_HTTP_REQUEST_TIMEOUT).
    fastify: { clientErrorHandler: handleClientError, frameworkErrors: handleFrameworkError, ...httpTimeouts(config) },
  };
}
