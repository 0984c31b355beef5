import Redis from 'ioredis';
import { Client } from 'pg';
import { PrivatePostgres } from './private-postgres';
import { PrivateRedis } from './private-redis';

async function redisGet(url: string, key: string): Promise<string | null> {
  const client = new Redis(url, { maxRetriesPerRequest: 0 });
  try {
    return await client.get(key);
  } finally {
    client.disconnect();
  }
}

describe('private servers for fault tests', () => {
  it('a Redis with an append-only file keeps its data across a kill; restartEmpty loses it', async () => {
    const redis = await PrivateRedis.start({ appendOnly: true });
    try {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 0 });
      await client.set('k', 'v');
      client.disconnect();
      await redis.restart();
      expect(await redisGet(redis.url, 'k')).toBe('v');
      await redis.restartEmpty();
      expect(await redisGet(redis.url, 'k')).toBeNull();
    } finally {
      await redis.stop();
    }
  });

  it('a Postgres cluster of its own can be stopped immediately and started again with its data', async () => {
    const postgres = await PrivatePostgres.start();
    try {
      const client = new Client({ connectionString: postgres.url });
      await client.connect();
      await client.query('CREATE TABLE t (v int); INSERT INTO t VALUES (7)');
      client.on('error', () => undefined);
      await postgres.stopServer('immediate');
      await expect(client.query('SELECT 1')).rejects.toThrow();
      await postgres.startServer();
      const again = new Client({ connectionString: postgres.url });
      await again.connect();
      expect((await again.query('SELECT v FROM t')).rows).toEqual([{ v: 7 }]);
      await again.end();
    } finally {
      await postgres.destroy();
    }
  }, 60_000);
});
