import { type AlertOrigin, SystemAlertRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import { issueTestKey, startGateway } from './start-gateway';

const MINUTE = 60_000;

/**
 * GET /api/system/alerts on real Postgres: the alerts the services' monitors stored (written here
 * through the repository they use), newest first, active or all, since a moment; for operators
 * only (admin keys of OPERATOR_TENANT: alerts are the installation's).
 */
describe('GET /api/system/alerts', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  const keys: Record<string, Record<string, string>> = {};
  const base = Date.now() - 60 * MINUTE;
  const at = (minutes: number) => new Date(base + minutes * MINUTE);

  beforeAll(async () => {
    schema = await createTestSchema('gwalerts');
    redis = createTestRedisPrefix('gwalerts');
    service = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, RATE_LIMIT_PER_MINUTE: '0', OPERATOR_TENANT: 'acme' });
    for (const role of ['read', 'write', 'admin'] as const) keys[role] = (await issueTestKey(service, 'acme', role)).headers;
    keys.otherAdmin = (await issueTestKey(service, 'globex', 'admin')).headers;

    const alerts = new SystemAlertRepository(service.kit.dataSource);
    const ingestion: AlertOrigin = { service: 'ingestion', replica: 'ingestion-0', pid: 7 };
    const agent: AlertOrigin = { service: 'agent', replica: 'agent-0', pid: 9 };
    // ingestion's CPU: warning at 0, critical at 10, ok at 20; its memory: warning at 30 (still on);
    // the agent's event loop: critical at 40 (still on).
    await alerts.recordTransition({ origin: ingestion, resource: 'cpu', level: 'warning', value: 0.72, threshold: 0.7, at: at(0) });
    await alerts.recordTransition({ origin: ingestion, resource: 'cpu', level: 'critical', value: 0.9, threshold: 0.85, at: at(10) });
    await alerts.recordTransition({ origin: ingestion, resource: 'cpu', level: 'ok', value: 0.2, threshold: null, at: at(20) });
    await alerts.recordTransition({ origin: ingestion, resource: 'memory', level: 'warning', value: 0.83, threshold: 0.8, at: at(30) });
    await alerts.recordTransition({ origin: agent, resource: 'eventLoopLag', level: 'critical', value: 1.4, threshold: 1, at: at(40) });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const get = async (query: string, headers = keys.admin) => {
    const response = await fetch(`${service.url}/api/system/alerts${query}`, { headers });
    return { status: response.status, body: (await response.json()) as { items: Array<Record<string, unknown>>; error?: { code: string; message: string } } };
  };
  const summary = (items: Array<Record<string, unknown>>) => items.map((item) => `${String(item.service)}/${String(item.resource)}/${String(item.level)}`);

  it('lists the active alerts by default, newest first, in the documented shape', async () => {
    const { status, body } = await get('');
    expect(status).toBe(200);
    expect(summary(body.items)).toEqual(['agent/eventLoopLag/critical', 'ingestion/memory/warning']);
    expect(body.items[1]).toEqual({
      id: expect.any(String) as unknown,
      service: 'ingestion',
      replica: 'ingestion-0',
      pid: 7,
      resource: 'memory',
      level: 'warning',
      value: 0.83,
      threshold: 0.8,
      raisedAt: at(30).toISOString(),
      clearedAt: null,
      clearedValue: null,
      clearedBy: null,
    });
  });

  it('lists cleared ones too with state=all, each stretch ended by what followed it; since and limit narrow it', async () => {
    const all = await get('?state=all');
    expect(summary(all.body.items)).toEqual(['agent/eventLoopLag/critical', 'ingestion/memory/warning', 'ingestion/cpu/critical', 'ingestion/cpu/warning']);
    const [, , critical, warning] = all.body.items;
    expect({ clearedAt: warning.clearedAt, clearedBy: warning.clearedBy, clearedValue: warning.clearedValue }).toEqual({ clearedAt: at(10).toISOString(), clearedBy: 'critical', clearedValue: 0.9 });
    expect({ clearedAt: critical.clearedAt, clearedBy: critical.clearedBy, clearedValue: critical.clearedValue }).toEqual({ clearedAt: at(20).toISOString(), clearedBy: 'ok', clearedValue: 0.2 });

    // In force at some moment since minute 15: the critical CPU stretch (cleared at 20) and the two still on, not the warning cleared at 10.
    expect(summary((await get(`?state=all&since=${encodeURIComponent(at(15).toISOString())}`)).body.items)).toEqual(['agent/eventLoopLag/critical', 'ingestion/memory/warning', 'ingestion/cpu/critical']);
    expect(summary((await get(`?state=all&since=${encodeURIComponent(at(25).toISOString())}`)).body.items)).toEqual(['agent/eventLoopLag/critical', 'ingestion/memory/warning']);
    expect(summary((await get('?state=all&limit=1')).body.items)).toEqual(['agent/eventLoopLag/critical']);
  });

  it("is for operators only (the operators' tenant's admin keys): not for its read or write keys, nor another tenant's admin", async () => {
    for (const [who, headers] of [['read', keys.read], ['write', keys.write], ['another tenant\'s admin', keys.otherAdmin]] as const) {
      const { status, body } = await get('', headers);
      expect({ who, status, code: body.error?.code }).toEqual({ who, status: 403, code: 'FORBIDDEN' });
    }
    expect((await get('', {})).status).toBe(401);
  });

  it('refuses a query it cannot read (400, naming the field)', async () => {
    for (const query of ['?state=open', '?since=yesterday', '?limit=0', '?limit=501']) {
      const { status, body } = await get(query);
      expect({ query, status, code: body.error?.code }).toEqual({ query, status: 400, code: 'INVALID_PAYLOAD' });
    }
  });
});
