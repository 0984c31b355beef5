import 'reflect-metadata';
import multipart from '@fastify/multipart';
import { runMain, runService } from '@quarry/service-kit';
import { GatewayModule } from './app.module';
import { loadGatewayConfig } from './config';
import { ErrorResponseFilter } from './http/error-response.filter';

runMain('gateway', () => {
  const config = loadGatewayConfig();
  return runService({
    name: 'gateway',
    config,
    http: { port: config.PORT, host: config.HOST },
    queues: [],
    module: GatewayModule,
    configureHttp: async (app, kit) => {
      app.useGlobalFilters(new ErrorResponseFilter(kit.logger));
      await app.register(multipart, { limits: { fileSize: config.MAX_UPLOAD_BYTES, files: 1, fields: 20, fieldSize: 64 * 1024 } });
    },
  });
});
