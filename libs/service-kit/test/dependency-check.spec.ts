import { createTestSchema, TEST_DATABASE_URL, TEST_REDIS_URL } from '@quarry/testing';
import { Client } from 'pg';
import { DependencyUnreachableError, checkPostgres, checkRedis } from '../src';

describe('boot-time dependency checks', () => {
  it('names the Postgres URL (password hidden) and the fix when Postgres is unreachable', async () => {
    const attempt = checkPostgres('postgres://quarry:s3cret@127.0.0.1:1/quarry', 'public');
    await expect(attempt).rejects.toBeInstanceOf(DependencyUnreachableError);
    await expect(attempt).rejects.toThrow(
      'cannot reach Postgres at postgres://quarry:***@127.0.0.1:1/quarry (ECONNREFUSED): start Postgres or set DATABASE_URL',
    );
  });

  it('names the Redis URL and the fix when Redis is unreachable', async () => {
    await expect(checkRedis('redis://127.0.0.1:1')).rejects.toThrow(
      'cannot reach Redis at redis://127.0.0.1:1 (ECONNREFUSED): start Redis or set REDIS_URL',
    );
  });

  it('passes against the real Postgres and Redis, creating a missing schema', async () => {
    const probe = await createTestSchema('kit');
    await probe.drop();
    await expect(checkPostgres(TEST_DATABASE_URL, probe.schema)).resolves.toBeUndefined();
    const client = new Client({ connectionString: TEST_DATABASE_URL });
    await client.connect();
    try {
      const rows = await client.query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [probe.schema]);
      expect(rows.rowCount).toBe(1);
    } finally {
      await client.query(`DROP SCHEMA IF EXISTS "${probe.schema}" CASCADE`);
      await client.end();
    }
    await expect(checkRedis(TEST_REDIS_URL)).resolves.toBeUndefined();
  });
});
