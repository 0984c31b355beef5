import { Controller, Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import { EventPattern } from '@nestjs/microservices';
import { serviceEnv, serviceHttpEnv, loadConfig } from '@quarry/config';
import { QueueName, jobNamesOnQueue } from '@quarry/contracts';
import { createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { runService } from '../src';

@Injectable()
class BootCounter implements OnApplicationBootstrap {
  static calls = 0;
  onApplicationBootstrap(): void {
    BootCounter.calls++;
  }
}

// Handlers for every job on the tasks queue, so the worker agrees to start.
@Controller()
class TaskHandlers {
  @EventPattern(jobNamesOnQueue(QueueName.Tasks))
  run(): void {}
}

@Module({ controllers: [TaskHandlers], providers: [BootCounter] })
class ProbeModule {}

describe('runService', () => {
  it('boots a hybrid service (HTTP + queue worker) running lifecycle hooks once, and closes cleanly', async () => {
    const schema = await createTestSchema('kit');
    const redis = createTestRedisPrefix('kit');
    const config = loadConfig(serviceEnv.extend(serviceHttpEnv(0).shape), {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      LOG_LEVEL: 'error',
    });
    const service = await runService({ name: 'probe', config, http: { port: 0, host: '127.0.0.1' }, queues: [QueueName.Tasks], module: ProbeModule, silentLogs: true });
    try {
      expect(BootCounter.calls).toBe(1);
      expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    } finally {
      await service.close();
      await redis.cleanup();
      await schema.drop();
    }
  });
});
