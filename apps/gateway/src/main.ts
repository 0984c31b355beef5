import './tracing';
import 'reflect-metadata';
import { runMain, runService } from '@quarry/service-kit';
import { GatewayModule } from './app.module';
import { loadGatewayConfig } from './config';
import { configureGatewayHttp } from './http/configure-http';
import { gatewayHttpOptions } from './http/gateway-http-options';

runMain('gateway', () => {
  const config = loadGatewayConfig();
  return runService({
    name: 'gateway',
    config,
    http: gatewayHttpOptions(config),
    queues: [],
    module: GatewayModule,
    configureHttp: configureGatewayHttp,
  });
});
