import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { endpointsFromUrls } from '@quarry/domain';
import type { ServiceKit } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';
import { MAX_FIELD_BYTES, MAX_FORM_FIELDS, uploadLimits } from '../documents/upload-form';
import { ErrorResponseFilter } from './error-response.filter';
import { guardUploads } from './upload-guard';

/** The gateway's HTTP setup beyond the kit's: one error shape, and multipart uploads with limits. */
export async function configureGatewayHttp(app: NestFastifyApplication, kit: ServiceKit<GatewayConfig>): Promise<void> {
  const { config } = kit;
  app.useGlobalFilters(new ErrorResponseFilter(kit.logger, endpointsFromUrls({ databaseUrl: config.DATABASE_URL, redisUrl: config.REDIS_URL })));
  // Each upload route passes its own limits to request.parts(); these only back them up.
  await app.register(multipart, { limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1, fields: MAX_FORM_FIELDS, fieldSize: MAX_FIELD_BYTES } });
  const limits = uploadLimits(config);
  guardUploads(app.getHttpAdapter().getInstance(), [
    { method: 'POST', url: '/api/documents', limits: limits.single },
    { method: 'POST', url: '/api/documents/batch', limits: limits.batch },
  ]);
}
