import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { ServiceKit } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';
import { ErrorResponseFilter } from './error-response.filter';

/** The gateway's HTTP setup beyond the kit's: one error shape, and multipart uploads with limits. */
export async function configureGatewayHttp(app: NestFastifyApplication, kit: ServiceKit<GatewayConfig>): Promise<void> {
  app.useGlobalFilters(new ErrorResponseFilter(kit.logger));
  await app.register(multipart, { limits: { fileSize: kit.config.MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 } });
}
