import 'reflect-metadata';
import { runMain, runService } from '@quarry/service-kit';
import { GatewayModule } from './app.module';
import { loadGatewayConfig } from './config';
import { configureGatewayHttp } from './http/configure-http';

runMain('gateway', () => {
  const config = loadGatewayConfig();
  return runService({
    name: 'gateway',
    config,
    http: { port: config.PORT, host: config.HOST },
    queues: [],
    module: GatewayModule,
    configureHttp: configureGatewayHttp,
  });
});
