import './tracing';
import 'reflect-metadata';
import { QueueName } from '@quarry/contracts';
import { runMain, runService } from '@quarry/service-kit';
import { RetrievalModule } from './app.module';
import { loadRetrievalConfig } from './config';

runMain('retrieval', () => {
  const config = loadRetrievalConfig();
  return runService({
    name: 'retrieval',
    config,
    http: { port: config.HTTP_PORT, host: config.HOST },
    queues: [QueueName.Retrieval],
    module: RetrievalModule,
  });
});
