import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { endpointsFromUrls } from '@quarry/domain';
import type { ServiceKit } from '@quarry/service-kit';
import { registerQueueDashboard } from '../admin/queue-dashboard';
import { authenticateRequests } from '../auth/authenticate-requests';
import { RequestAuthenticator } from '../auth/request-authenticator';
import type { GatewayConfig } from '../config';
import { MAX_FIELD_BYTES, MAX_FORM_FIELDS, uploadLimits } from '../documents/upload-form';
import { registerCors } from '../limits/cors';
import { limitRequests } from '../limits/limit-requests';
import { registerSecurityHeaders } from '../limits/security-headers';
import { gatewayOpenApiDocument, registerApiDocs } from '../openapi/register-api-docs';
import { ErrorResponseFilter } from './error-response.filter';
import { guardUploads } from './upload-guard';

/** The gateway's HTTP setup beyond the kit's: one error shape, authentication first, multipart uploads with limits, the API's documentation. */
export async function configureGatewayHttp(app: NestFastifyApplication, kit: ServiceKit<GatewayConfig>): Promise<void> {
  const { config } = kit;
  app.useGlobalFilters(new ErrorResponseFilter(kit.logger, endpointsFromUrls({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL })));
  // Each upload route passes its own limits to request.parts(); these only back them up.
  await app.register(multipart, { limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1, fields: MAX_FORM_FIELDS, fieldSize: MAX_FIELD_BYTES } });
  const fastify = app.getHttpAdapter().getInstance();
  // Response headers only, before authentication, so that a 401 or 429 carries them too.
  await registerSecurityHeaders(app);
  await registerCors(app, config);
  // The first onRequest hook that acts on the request: nothing is done for it before it is known who sent it.
  authenticateRequests(fastify, app.get(RequestAuthenticator));
  // Then the per-key rate limit, before anything costly (an upload's body is not read when refused).
  await limitRequests(fastify, config, kit.logger);
  const limits = uploadLimits(config);
  guardUploads(fastify, [
    { method: 'POST', url: '/api/documents', limits: limits.single },
    { method: 'POST', url: '/api/documents/batch', limits: limits.batch },
  ]);
  // The OpenAPI document and its UI (public); built at boot, so a catalog error stops the gateway.
  await registerApiDocs(app, gatewayOpenApiDocument(config));
  await registerQueueDashboard(app, kit);
}
