import './tracing';
import 'reflect-metadata';
import { QueueName } from '@quarry/contracts';
import { runMain, runService } from '@quarry/service-kit';
import { IngestionModule } from './app.module';
import { loadIngestionConfig } from './config';

runMain('ingestion', () => {
  const config = loadIngestionConfig();
  return runService({
    name: 'ingestion',
    config,
    http: { port: config.HTTP_PORT, host: config.HOST },
    queues: [QueueName.Ingestion],
    module: IngestionModule,
  });
});
