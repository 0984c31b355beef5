import './tracing';
import 'reflect-metadata';
import { QueueName } from '@quarry/contracts';
import { runMain, runService } from '@quarry/service-kit';
import { AgentModule } from './app.module';
import { loadAgentConfig } from './config';

runMain('agent', () => {
  const config = loadAgentConfig();
  return runService({
    name: 'agent',
    config,
    http: { port: config.HTTP_PORT, host: config.HOST },
    queues: [QueueName.Agent],
    module: AgentModule,
  });
});
