import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import { issueTestKey, startGateway } from './start-gateway';

/**
 * A task type whose work reaches every tenant (corpus.reembed: embedding versions belong to the
 * installation) is for operators — admin keys of OPERATOR_TENANT; the others need a write key.
 * Refused before anything is queued.
 */
describe('POST /api/tasks: who may submit which task type', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let gateway: RunningService<GatewayConfig>;

  beforeAll(async () => {
    schema = await createTestSchema('taskroles');
    redis = createTestRedisPrefix('taskroles');
    // No task-scheduler runs: a submission that passes the gateway's checks times out waiting for it.
    gateway = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, REQUEST_TIMEOUT_MS: '500', OPERATOR_TENANT: 'operators' });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const submit = (headers: Record<string, string>, body: unknown) =>
    fetch(`${gateway.url}/api/tasks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it("refuses corpus.reembed to write keys and to an ordinary tenant's admin key, and lets an operator submit it", async () => {
    const writer = await issueTestKey(gateway, 'acme', 'write');
    for (const key of [writer, await issueTestKey(gateway, 'acme', 'admin'), await issueTestKey(gateway, 'operators', 'write')]) {
      const refused = await submit(key.headers, { type: 'corpus.reembed', params: { dimensions: 256 } });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toMatchObject({ error: { code: 'FORBIDDEN', message: "a corpus.reembed task spans every tenant: it needs an admin key of the operators' tenant (OPERATOR_TENANT)" } });
    }

    const operator = await issueTestKey(gateway, 'operators', 'admin');
    // Past the check: on to the task-scheduler, which is not running here.
    expect((await submit(operator.headers, { type: 'corpus.reembed', params: { dimensions: 256 } })).status).toBe(503);
    expect((await submit(writer.headers, { type: 'corpus.reindex' })).status).toBe(503);
  });
});
