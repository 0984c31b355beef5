import { ServiceStack } from './service-stack';
import { type TestSchema, createTestSchema } from './test-database';
import { type TestRedisPrefix, createTestRedisPrefix } from './test-redis';

export interface IsolatedStack {
  stack: ServiceStack;
  schema: TestSchema;
  redis: TestRedisPrefix;
  /** Stops the services and removes the schema and the Redis keys. */
  stop: () => Promise<void>;
}

/** The five services as processes on a Postgres schema and Redis prefix of their own (benchmarks, evaluations). */
export async function startIsolatedStack(label: string, env: Record<string, string> = {}): Promise<IsolatedStack> {
  const schema = await createTestSchema(label);
  const redis = createTestRedisPrefix(label);
  const stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix, env });
  const stop = async () => {
    await stack.stop();
    await redis.cleanup();
    await schema.drop();
  };
  try {
    await stack.start();
  } catch (error) {
    await stop();
    throw error;
  }
  return { stack, schema, redis, stop };
}
