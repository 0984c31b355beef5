import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Controller, Get, Module, type Type } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, NestFactory } from '@nestjs/core';
import { generateApiKey } from '@quarry/domain';
import { ApiKeyRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, repoRoot, waitFor } from '@quarry/testing';
import OpenAI from 'openai';
import { UNAUTHENTICATED_MESSAGE } from '../src/auth/request-authenticator';
import { KeysService } from '../src/auth/keys.service';
import { RequiresRole } from '../src/auth/requires-role.decorator';
import { RouteRoleCheck, routesWithoutRole } from '../src/auth/route-role-check';
import type { GatewayConfig } from '../src/config';
import { DocumentsController } from '../src/documents/documents.controller';
import { JobsController } from '../src/jobs/jobs.controller';
import { QueryController } from '../src/query/query.controller';
import { KeysController } from '../src/auth/keys.controller';
import { issueTestKey, startGateway } from './start-gateway';

interface ErrorReply {
  error: { code: string; message: string; correlationId: string };
}
interface KeyView {
  id: string;
  name: string;
  role: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

/** The gateway in its default mode (AUTH_MODE=api-key), on real Postgres and Redis. */
describe('API keys at the gateway (default api-key mode)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;

  beforeAll(async () => {
    schema = await createTestSchema('gwkeys');
    redis = createTestRedisPrefix('gwkeys');
    service = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const api = (path: string, init: RequestInit = {}) => fetch(`${service.url}${path}`, init);
  const upload = (headers: Record<string, string>, name = 'note.md') => {
    const form = new FormData();
    form.append('file', new Blob([`# ${name}\n\nSome text of ${name}.`]), name);
    return api('/api/documents', { method: 'POST', body: form, headers });
  };
  const json = (body: unknown, headers: Record<string, string>): RequestInit => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

  async function expectError(response: Response, status: number, code: string): Promise<ErrorReply['error']> {
    const body = (await response.json()) as ErrorReply;
    expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
    expect(Object.keys(body.error).sort()).toEqual(['code', 'correlationId', 'message']);
    expect(body.error.correlationId).toBe(response.headers.get('x-correlation-id'));
    return body.error;
  }

  /** 401 in the documented shape, with `WWW-Authenticate: Bearer` and the one message that says nothing about why. */
  async function expectUnauthenticated(response: Response): Promise<void> {
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    const error = await expectError(response, 401, 'UNAUTHENTICATED');
    expect(error.message).toBe(UNAUTHENTICATED_MESSAGE);
  }

  it('refuses every /api route without a key, and leaves health and metrics open', async () => {
    await expectUnauthenticated(await api('/api/documents'));
    await expectUnauthenticated(await upload({}));
    await expectUnauthenticated(await api('/api/query', json({ question: 'anyone?' }, {})));
    await expectUnauthenticated(await api('/api/jobs/ingest-x/cancel', { method: 'POST' }));
    await expectUnauthenticated(await api('/api/keys'));
    // The trusted-header mode's header means nothing here.
    await expectUnauthenticated(await api('/api/documents', { headers: { 'x-tenant-id': 'default' } }));
    expect((await api('/health/live')).status).toBe(200);
    expect((await api('/health/ready')).status).toBe(200);
    expect((await api('/metrics')).status).toBe(200);
  });

  it('answers a malformed, mistyped, unknown, expired or revoked key with the same 401', async () => {
    const valid = await issueTestKey(service, 'acme', 'read');
    const expired = await issueTestKey(service, 'acme', 'read', new Date(Date.now() - 1000));
    const revoked = await issueTestKey(service, 'acme', 'read');
    await new ApiKeyRepository(service.kit.dataSource).revoke('acme', revoked.id);
    const mistyped = `${valid.key.slice(0, 20)}${valid.key[20] === 'x' ? 'y' : 'x'}${valid.key.slice(21)}`;
    const presented = [
      { authorization: 'Bearer' },
      { authorization: 'Bearer not-a-key' },
      { authorization: `Basic ${Buffer.from(`user:${valid.key}`).toString('base64')}` },
      { authorization: `Bearer ${mistyped}` },
      { 'x-api-key': valid.key.slice(0, -1) },
      { authorization: `Bearer ${generateApiKey().key}` }, // well-formed, never issued
      { authorization: `Bearer ${valid.key}`, 'x-api-key': generateApiKey().key }, // two different keys
      expired.headers,
      revoked.headers,
    ];
    for (const headers of presented) await expectUnauthenticated(await api('/api/documents', { headers }));
    expect((await api('/api/documents', { headers: valid.headers })).status).toBe(200);
  });

  it('accepts a key as Authorization: Bearer (any case) and as x-api-key', async () => {
    const { key } = await issueTestKey(service, 'headers', 'read');
    for (const headers of [{ authorization: `Bearer ${key}` }, { authorization: `bearer ${key}` }, { 'x-api-key': key }, { authorization: `Bearer ${key}`, 'x-api-key': key }]) {
      const response = await api('/api/documents', { headers });
      expect({ headers, status: response.status }).toEqual({ headers, status: 200 });
    }
  });

  it('authenticates the official openai client, which sends its apiKey as a Bearer token', async () => {
    const { key } = await issueTestKey(service, 'openai-client', 'read');
    const client = new OpenAI({ apiKey: key, baseURL: `${service.url}/api`, maxRetries: 0 });
    expect(await client.get<{ total: number }>('/documents')).toMatchObject({ total: 0 });
    const stranger = new OpenAI({ apiKey: generateApiKey().key, baseURL: `${service.url}/api`, maxRetries: 0 });
    await expect(stranger.get('/documents')).rejects.toMatchObject({ status: 401 });
  });

  it('acts for the key\'s tenant: its documents are its own, whatever tenant header is sent', async () => {
    const acme = await issueTestKey(service, 'acme-docs', 'write');
    const globex = await issueTestKey(service, 'globex-docs', 'write');
    const uploaded = await upload({ ...acme.headers, 'x-tenant-id': 'globex-docs' }, 'acme-only.md');
    expect(uploaded.status).toBe(202);
    const { documentId } = (await uploaded.json()) as { documentId: string };
    const [row] = await service.kit.dataSource.query<Array<{ tenant_id: string }>>('SELECT tenant_id FROM documents WHERE id = $1', [documentId]);
    expect(row.tenant_id).toBe('acme-docs');
    expect((await api(`/api/documents/${documentId}`, { headers: acme.headers })).status).toBe(200);
    await expectError(await api(`/api/documents/${documentId}`, { headers: { ...globex.headers, 'x-tenant-id': 'acme-docs' } }), 404, 'NOT_FOUND');
  });

  it('refuses a route above the key\'s role with 403 FORBIDDEN naming the role', async () => {
    const read = await issueTestKey(service, 'roles', 'read');
    const write = await issueTestKey(service, 'roles', 'write');
    const admin = await issueTestKey(service, 'roles', 'admin');

    expect((await api('/api/documents?limit=1', { headers: read.headers })).status).toBe(200);
    const refused = await expectError(await upload(read.headers), 403, 'FORBIDDEN');
    expect(refused.message).toBe("this key's role (read) cannot POST /api/documents; it needs the write role");
    await expectError(await api('/api/documents/00000000-0000-4000-8000-000000000000', { method: 'DELETE', headers: read.headers }), 403, 'FORBIDDEN');
    await expectError(await api('/api/jobs/ingest-x/cancel', { method: 'POST', headers: read.headers }), 403, 'FORBIDDEN');
    await expectError(await api('/api/keys', { headers: read.headers }), 403, 'FORBIDDEN');

    const uploaded = await upload(write.headers);
    expect(uploaded.status).toBe(202);
    const { jobId } = (await uploaded.json()) as { jobId: string };
    expect((await api(`/api/jobs/${jobId}`, { headers: read.headers })).status).toBe(200);
    await expectError(await api('/api/keys', { headers: write.headers }), 403, 'FORBIDDEN');
    await expectError(await api('/api/keys', json({ name: 'x', role: 'read' }, write.headers)), 403, 'FORBIDDEN');

    expect((await api('/api/keys', { headers: admin.headers })).status).toBe(200);
    expect((await upload(admin.headers, 'by-admin.md')).status).toBe(202);
  });

  it('manages the tenant\'s keys: create shows the secret once, list never, revoke takes effect at once', async () => {
    const admin = await issueTestKey(service, 'keys-tenant', 'admin');
    const created = await api('/api/keys', json({ name: 'ci uploader', role: 'write', expiresAt: new Date(Date.now() + 86_400_000).toISOString() }, admin.headers));
    expect(created.status).toBe(201);
    const body = (await created.json()) as KeyView & { key: string };
    expect(body).toEqual({
      id: expect.any(String) as unknown,
      name: 'ci uploader',
      role: 'write',
      prefix: body.key.slice(0, 12),
      key: expect.stringMatching(/^qk_live_[0-9A-Za-z]{36}$/) as unknown,
      createdAt: expect.any(String) as unknown,
      expiresAt: expect.any(String) as unknown,
      lastUsedAt: null,
      revokedAt: null,
    });
    const newKey = { authorization: `Bearer ${body.key}` };
    expect((await upload(newKey, 'from-new-key.md')).status).toBe(202);

    const listed = (await (await api('/api/keys', { headers: admin.headers })).json()) as { items: Array<KeyView & Record<string, unknown>> };
    expect(listed.items.map((item) => item.id).sort()).toEqual([admin.id, body.id].sort());
    const text = JSON.stringify(listed);
    expect(text).not.toContain(body.key);
    expect(text).not.toContain(admin.key);
    for (const item of listed.items) expect(Object.keys(item).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name', 'prefix', 'revokedAt', 'role']);

    expect((await api(`/api/keys/${body.id}`, { method: 'DELETE', headers: admin.headers })).status).toBe(204);
    await expectUnauthenticated(await api('/api/documents', { headers: newKey }));
    const afterRevoke = (await (await api('/api/keys', { headers: admin.headers })).json()) as { items: KeyView[] };
    expect(afterRevoke.items.find((item) => item.id === body.id)?.revokedAt).toEqual(expect.any(String) as unknown);
    // Revoking again changes nothing and is not an error.
    expect((await api(`/api/keys/${body.id}`, { method: 'DELETE', headers: admin.headers })).status).toBe(204);
  });

  it('revokes on every gateway replica at once, through the API and through the operator CLI', async () => {
    const replica = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });
    try {
      const onReplica = (key: { headers: Record<string, string> }) => fetch(`${replica.url}/api/documents`, { headers: key.headers });
      const admin = await issueTestKey(service, 'keys-replicas', 'admin');
      const [byApi, byCli] = [await issueTestKey(service, 'keys-replicas', 'read'), await issueTestKey(service, 'keys-replicas', 'read')];
      // Both keys are confirmed and cached on both gateways (for up to a minute without a revocation message).
      for (const key of [byApi, byCli]) {
        expect((await api('/api/documents', { headers: key.headers })).status).toBe(200);
        expect((await onReplica(key)).status).toBe(200);
      }

      expect((await api(`/api/keys/${byApi.id}`, { method: 'DELETE', headers: admin.headers })).status).toBe(204);
      await waitFor(async () => (await onReplica(byApi)).status === 401, { timeoutMs: 2000, intervalMs: 20, description: 'the replica to drop the revoked key' });

      const cli = join(repoRoot(), 'dist', 'tools', 'cli', 'quarry-keys.js');
      const env = { PATH: process.env.PATH, DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix };
      const { stderr } = await promisify(execFile)(process.execPath, [cli, 'revoke', byCli.id], { env });
      expect(stderr).toContain('every running gateway dropped it');
      for (const url of [service.url, replica.url]) {
        await waitFor(async () => (await fetch(`${url}/api/documents`, { headers: byCli.headers })).status === 401, {
          timeoutMs: 2000,
          intervalMs: 20,
          description: 'both gateways to drop the key the CLI revoked',
        });
      }
      // The admin key was never revoked: still good on both.
      expect((await onReplica(admin)).status).toBe(200);
    } finally {
      await replica.close();
    }
  });

  it('keeps key management inside the tenant: another tenant\'s key id is 404 and stays valid', async () => {
    const admin = await issueTestKey(service, 'keys-a', 'admin');
    const other = await issueTestKey(service, 'keys-b', 'write');
    const refused = await expectError(await api(`/api/keys/${other.id}`, { method: 'DELETE', headers: admin.headers }), 404, 'NOT_FOUND');
    expect(refused.message).not.toContain('keys-b');
    expect((await api('/api/documents', { headers: other.headers })).status).toBe(200);
    const listed = (await (await api('/api/keys', { headers: admin.headers })).json()) as { items: KeyView[] };
    expect(listed.items.map((item) => item.id)).toEqual([admin.id]);
    await expectError(await api('/api/keys/not-a-uuid', { method: 'DELETE', headers: admin.headers }), 400, 'INVALID_PAYLOAD');
  });

  it('validates new keys: known role, a name, an expiry in the future', async () => {
    const admin = await issueTestKey(service, 'keys-validate', 'admin');
    for (const body of [{ name: 'x', role: 'owner' }, { role: 'read' }, { name: '', role: 'read' }, { name: 'x', role: 'read', extra: 1 }, { name: 'x', role: 'read', expiresAt: 'tomorrow' }]) {
      await expectError(await api('/api/keys', json(body, admin.headers)), 400, 'INVALID_PAYLOAD');
    }
    const past = await expectError(await api('/api/keys', json({ name: 'x', role: 'read', expiresAt: '2020-01-01T00:00:00Z' }, admin.headers)), 400, 'INVALID_PAYLOAD');
    expect(past.message).toBe('expiresAt: must be in the future');
  });

  it('never lets a key create a key with a higher role than its own', async () => {
    const keys = service.app.get(KeysService);
    const caller = { tenantId: 'ceiling', keyId: null, via: 'trusted-header' as const };
    await expect(keys.create({ ...caller, role: 'write' }, { name: 'escalate', role: 'admin' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(keys.create({ ...caller, role: 'read' }, { name: 'escalate', role: 'write' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(keys.create({ ...caller, role: 'write' }, { name: 'peer', role: 'write' })).resolves.toMatchObject({ role: 'write' });
    expect((await keys.list('ceiling')).items.map((item) => item.name)).toEqual(['peer']);
  });

  it('lets a key revoke itself', async () => {
    const admin = await issueTestKey(service, 'self-revoke', 'admin');
    expect((await api(`/api/keys/${admin.id}`, { method: 'DELETE', headers: admin.headers })).status).toBe(204);
    await expectUnauthenticated(await api('/api/keys', { headers: admin.headers }));
  });

  it('stops accepting a key when it expires, even while cached', async () => {
    const soon = await issueTestKey(service, 'expiring', 'read', new Date(Date.now() + 1500));
    expect((await api('/api/documents', { headers: soon.headers })).status).toBe(200);
    await waitFor(async () => (await api('/api/documents', { headers: soon.headers })).status === 401, { timeoutMs: 5000, intervalMs: 100, description: 'the key to expire' });
  });

  it('records last_used_at, at most once a minute per key', async () => {
    const key = await issueTestKey(service, 'last-used', 'read');
    const lastUsed = async () => (await new ApiKeyRepository(service.kit.dataSource).list('last-used'))[0].lastUsedAt;
    expect(await lastUsed()).toBeNull();
    expect((await api('/api/documents', { headers: key.headers })).status).toBe(200);
    const first = await waitFor(lastUsed, { timeoutMs: 5000, description: 'last_used_at to be written' });
    for (let i = 0; i < 3; i++) expect((await api('/api/documents', { headers: key.headers })).status).toBe(200);
    // Give a (wrong) second write every chance to land before looking.
    await service.kit.dataSource.query('SELECT pg_sleep(0.2)');
    expect((await lastUsed())?.getTime()).toBe(first?.getTime());
  });

  it('declares a role on every /api route of the gateway', () => {
    const controllers = service.app
      .get(DiscoveryService)
      .getControllers()
      .map((wrapper) => wrapper.metatype as Type<unknown>);
    expect(controllers).toEqual(expect.arrayContaining([DocumentsController, JobsController, QueryController, KeysController]) as unknown);
    expect(routesWithoutRole(controllers)).toEqual([]);
  });

  it('names every /api route that declares no role, and ignores routes outside /api', () => {
    @Controller('api/things')
    class ThingsController {
      @Get()
      list() {
        return [];
      }

      @Get(':id')
      @RequiresRole('read')
      get() {
        return {};
      }

      helper() {
        return 'not a route';
      }
    }
    @Controller()
    class OutsideController {
      @Get('status')
      status() {
        return 'ok';
      }
    }
    @Controller('api/guarded')
    @RequiresRole('admin')
    class GuardedController {
      @Get()
      list() {
        return [];
      }
    }
    expect(routesWithoutRole([ThingsController, OutsideController, GuardedController])).toEqual(['GET /api/things (ThingsController.list)']);
  });

  it('refuses to boot an application whose /api route declares no role (the check runs as a lifecycle hook)', async () => {
    @Controller('api/forgotten')
    class ForgottenController {
      @Get()
      list() {
        return [];
      }
    }
    @Module({ imports: [DiscoveryModule], controllers: [ForgottenController, KeysController], providers: [RouteRoleCheck, { provide: KeysService, useValue: {} }] })
    class AppWithForgottenRoute {}
    await expect(NestFactory.createApplicationContext(AppWithForgottenRoute, { logger: false })).rejects.toThrow(
      'every /api route must declare the role it requires (@RequiresRole); these do not: GET /api/forgotten (ForgottenController.list)',
    );
  });
});
