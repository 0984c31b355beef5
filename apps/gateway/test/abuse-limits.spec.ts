import { TenantQuotaRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { PrivateRedis, type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import { DOCS_UI_PATH, OPENAPI_JSON_PATH } from '../src/openapi/route-catalog';
import { EventStream } from './event-stream';
import { RawConnection } from './raw-http';
import { BEHIND_TRUSTED_PROXY, issueTestKey, startGateway } from './start-gateway';

interface ErrorReply {
  error: { code: string; message: string; correlationId: string };
}
interface Uploaded {
  documentId: string;
  jobId: string;
  duplicate: boolean;
}
interface BatchEntry {
  filename: string;
  documentId?: string;
  duplicate?: boolean;
  error?: { code: string; message: string };
}

const PER_MINUTE = 20;
const ASK = 'delete documents, or ask the operator to raise the quota';

/**
 * fetch, with the body read at once: an answer left unread holds its connection busy, and the
 * gateway's graceful close waits for busy connections.
 */
async function call(url: string | URL, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, init);
  const body = await response.arrayBuffer();
  return new Response(response.status === 204 || response.status === 304 ? null : body, { status: response.status, headers: response.headers });
}

/** Text of exactly `size` bytes, different for every label. */
const text = (label: string, size = 64) => `# ${label}\n\n`.padEnd(size, 'x').slice(0, size);

function uploadTo(service: RunningService<GatewayConfig>, headers: Record<string, string>, name: string, body = text(name)): Promise<Response> {
  const form = new FormData();
  form.append('file', new Blob([body]), `${name}.md`);
  return call(`${service.url}/api/documents`, { method: 'POST', body: form, headers });
}

async function expectError(response: Response, status: number, code: string): Promise<string> {
  const body = (await response.json()) as ErrorReply;
  expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
  expect(body.error.correlationId).toBe(response.headers.get('x-correlation-id'));
  return body.error.message;
}

async function stored(service: RunningService<GatewayConfig>, tenantId: string): Promise<{ documents: number; contents: number; bytes: number }> {
  const [row]: Array<{ documents: string; contents: string; bytes: string }> = await service.kit.dataSource.query(
    `SELECT (SELECT count(*) FROM documents WHERE tenant_id = $1)::text AS documents,
            (SELECT count(*) FROM document_contents WHERE tenant_id = $1)::text AS contents,
            (SELECT coalesce(sum(size_bytes), 0) FROM documents WHERE tenant_id = $1)::text AS bytes`,
    [tenantId],
  );
  return { documents: Number(row.documents), contents: Number(row.contents), bytes: Number(row.bytes) };
}

/**
 * Two gateway replicas on one Postgres schema and one Redis prefix, as in production behind a
 * load balancer: they share every rate-limit budget (Redis) and every tenant quota (Postgres).
 */
describe('abuse limits on every gateway replica (rate limits, quotas, security headers)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let a: RunningService<GatewayConfig>;
  let b: RunningService<GatewayConfig>;

  beforeAll(async () => {
    schema = await createTestSchema('gwlimits');
    redis = createTestRedisPrefix('gwlimits');
    const env = {
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      RATE_LIMIT_PER_MINUTE: String(PER_MINUTE),
      RATE_LIMIT_BURST: '0',
      TENANT_MAX_DOCUMENTS: '3',
      TENANT_MAX_STORED_BYTES: '0',
    };
    a = await startGateway(env);
    b = await startGateway(env);
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const get = (service: RunningService<GatewayConfig>, path: string, headers: Record<string, string> = {}) => call(`${service.url}${path}`, { headers });

  describe('rate limits per key', () => {
    it('answers 429 RATE_LIMITED with Retry-After past the per-minute budget, and RateLimit-* headers on every answer', async () => {
      const { headers } = await issueTestKey(a, 'acme', 'read');
      for (let sent = 1; sent <= PER_MINUTE; sent++) {
        const response = await get(a, '/api/documents', headers);
        expect({ sent, status: response.status }).toEqual({ sent, status: 200 });
        expect(response.headers.get('ratelimit-limit')).toBe(String(PER_MINUTE));
        expect(response.headers.get('ratelimit-remaining')).toBe(String(PER_MINUTE - sent));
        const reset = Number(response.headers.get('ratelimit-reset'));
        expect(reset).toBeGreaterThanOrEqual(1);
        expect(reset).toBeLessThanOrEqual(60);
      }
      const refused = await get(a, '/api/documents', headers);
      const message = await expectError(refused, 429, 'RATE_LIMITED');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      // The wait is the window's, not a fixed guess: it is when the budget is whole again.
      expect(refused.headers.get('ratelimit-reset')).toBe(String(retryAfter));
      expect(refused.headers.get('ratelimit-remaining')).toBe('0');
      expect(message).toBe(`too many requests for this API key: at most ${PER_MINUTE} requests a minute; retry in ${retryAfter} s`);
      // Every route of the key is refused, uploads included (before their body is read).
      await expectError(await uploadTo(a, headers, 'refused-upload'), 429, 'RATE_LIMITED');
    });

    it('shares one budget between the replicas: a key gets it once, not once per gateway', async () => {
      const { headers } = await issueTestKey(a, 'acme', 'read');
      for (let sent = 0; sent < PER_MINUTE; sent++) {
        const replica = sent % 2 === 0 ? a : b;
        expect((await get(replica, '/api/documents', headers)).status).toBe(200);
      }
      await expectError(await get(a, '/api/documents', headers), 429, 'RATE_LIMITED');
      await expectError(await get(b, '/api/documents', headers), 429, 'RATE_LIMITED');
    });

    it('gives every key its own budget, even within one tenant', async () => {
      const spent = await issueTestKey(a, 'acme', 'read');
      for (let sent = 0; sent <= PER_MINUTE; sent++) await get(b, '/api/documents', spent.headers);
      await expectError(await get(a, '/api/documents', spent.headers), 429, 'RATE_LIMITED');

      const sameTenant = await issueTestKey(a, 'acme', 'read');
      const otherTenant = await issueTestKey(a, 'globex', 'read');
      for (const headers of [sameTenant.headers, otherTenant.headers]) {
        const response = await get(a, '/api/documents', headers);
        expect(response.status).toBe(200);
        expect(response.headers.get('ratelimit-remaining')).toBe(String(PER_MINUTE - 1));
      }
    });

    it('never limits public routes, nor counts requests that fail authentication', async () => {
      const spent = await issueTestKey(a, 'acme', 'read');
      for (let sent = 0; sent <= PER_MINUTE; sent++) await get(a, '/api/documents', spent.headers);
      await expectError(await get(a, '/api/documents', spent.headers), 429, 'RATE_LIMITED');
      for (const path of ['/health/live', '/health/ready', '/health/deep', '/metrics', OPENAPI_JSON_PATH, DOCS_UI_PATH]) {
        for (let sent = 0; sent <= PER_MINUTE; sent++) {
          // With the spent key's headers too: a public route does not look at them.
          const response = await get(a, path, sent % 2 === 0 ? spent.headers : {});
          // No agent, ingestion or task-scheduler consumes here: the deep check answers 503, never 429.
          expect({ path, sent, status: response.status }).toEqual({ path, sent, status: path === '/health/deep' ? 503 : 200 });
          expect(response.headers.get('ratelimit-limit')).toBeNull();
        }
      }
      // Without a key there is nobody to count against: 401 every time, never 429.
      for (let sent = 0; sent <= PER_MINUTE; sent++) await expectError(await get(a, '/api/documents'), 401, 'UNAUTHENTICATED');
    });
  });

  describe('tenant quotas', () => {
    const quotas = () => new TenantQuotaRepository(a.kit.dataSource);

    it('refuses a document past TENANT_MAX_DOCUMENTS with 403 QUOTA_EXCEEDED and stores nothing; a duplicate is still answered 200', async () => {
      const { headers } = await issueTestKey(a, 'docs-co', 'write');
      for (const name of ['one', 'two', 'three']) expect((await uploadTo(a, headers, name)).status).toBe(202);
      const message = await expectError(await uploadTo(b, headers, 'four'), 403, 'QUOTA_EXCEEDED');
      expect(message).toBe(`tenant docs-co has reached its quota of 3 documents; ${ASK}`);
      expect(await stored(a, 'docs-co')).toEqual({ documents: 3, contents: 3, bytes: 3 * 64 });

      const again = await uploadTo(b, headers, 'two');
      expect(again.status).toBe(200);
      expect(((await again.json()) as Uploaded).duplicate).toBe(true);

      // Deleting a document makes room again.
      const { items } = (await (await get(a, '/api/documents', headers)).json()) as { items: Array<{ id: string }> };
      expect((await call(`${a.url}/api/documents/${items[0].id}`, { method: 'DELETE', headers })).status).toBe(204);
      expect((await uploadTo(a, headers, 'four')).status).toBe(202);
      expect(await stored(a, 'docs-co')).toMatchObject({ documents: 3, contents: 3 });
    });

    it('refuses a file that does not fit in the storage quota with 413 STORAGE_QUOTA_EXCEEDED; a smaller one still fits', async () => {
      await quotas().setQuota('bytes-co', { maxStoredBytes: 100 });
      const { headers } = await issueTestKey(a, 'bytes-co', 'write');
      expect((await uploadTo(a, headers, 'sixty', text('sixty', 60))).status).toBe(202);
      const message = await expectError(await uploadTo(b, headers, 'another-sixty', text('another-sixty', 60)), 413, 'STORAGE_QUOTA_EXCEEDED');
      expect(message).toBe(`"another-sixty.md" (60 bytes) does not fit in the storage quota of tenant bytes-co: 60 of 100 bytes are in use, 40 left; ${ASK}`);
      expect((await uploadTo(b, headers, 'forty', text('forty', 40))).status).toBe(202);
      await expectError(await uploadTo(a, headers, 'one-more', text('one-more', 1)), 413, 'STORAGE_QUOTA_EXCEEDED');
      expect(await stored(a, 'bytes-co')).toEqual({ documents: 2, contents: 2, bytes: 100 });
    });

    it("takes a tenant's own quotas over the defaults; 0 lifts a limit", async () => {
      await quotas().setQuota('big-co', { maxDocuments: 5 });
      await quotas().setQuota('free-co', { maxDocuments: 0 });
      const big = await issueTestKey(a, 'big-co', 'write');
      const free = await issueTestKey(a, 'free-co', 'write');
      for (let n = 1; n <= 5; n++) expect((await uploadTo(a, big.headers, `big-${n}`)).status).toBe(202);
      expect(await expectError(await uploadTo(a, big.headers, 'big-6'), 403, 'QUOTA_EXCEEDED')).toContain('its quota of 5 documents');
      for (let n = 1; n <= 6; n++) expect((await uploadTo(b, free.headers, `free-${n}`)).status).toBe(202);
      expect(await quotas().usage('big-co', { maxDocuments: 3, maxStoredBytes: 0 })).toEqual({ documents: 5, storedBytes: 5 * 64, maxDocuments: 5, maxStoredBytes: 0 });
      // A field left out keeps its value; null goes back to the default.
      await quotas().setQuota('big-co', { maxStoredBytes: 1000 });
      expect(await quotas().usage('big-co', { maxDocuments: 3, maxStoredBytes: 0 })).toMatchObject({ maxDocuments: 5, maxStoredBytes: 1000 });
      await quotas().setQuota('big-co', { maxDocuments: null });
      expect(await quotas().usage('big-co', { maxDocuments: 3, maxStoredBytes: 0 })).toMatchObject({ maxDocuments: 3, maxStoredBytes: 1000 });
    });

    it('fails each file of a batch on its own: refused files store nothing, the rest go through', async () => {
      await quotas().setQuota('batch-bytes', { maxStoredBytes: 100 });
      const counted = await issueTestKey(a, 'batch-docs', 'write');
      const sized = await issueTestKey(a, 'batch-bytes', 'write');
      const batch = async (headers: Record<string, string>, files: Array<[string, string]>): Promise<BatchEntry[]> => {
        const form = new FormData();
        for (const [name, body] of files) form.append('file', new Blob([body]), `${name}.md`);
        const response = await call(`${a.url}/api/documents/batch`, { method: 'POST', body: form, headers });
        expect(response.status).toBe(202);
        return ((await response.json()) as { documents: BatchEntry[] }).documents;
      };

      const byCount = await batch(counted.headers, ['a', 'b', 'c', 'd', 'a'].map((name) => [name, text(name)]));
      expect(byCount.map((entry) => entry.error?.code ?? (entry.duplicate ? 'duplicate' : 'created'))).toEqual(['created', 'created', 'created', 'QUOTA_EXCEEDED', 'duplicate']);
      expect(byCount[3].error?.message).toBe(`tenant batch-docs has reached its quota of 3 documents; ${ASK}`);
      expect(byCount[4].documentId).toBe(byCount[0].documentId);
      expect(await stored(a, 'batch-docs')).toEqual({ documents: 3, contents: 3, bytes: 3 * 64 });

      const bySize = await batch(sized.headers, [
        ['fifty', text('fifty', 50)],
        ['eighty', text('eighty', 80)],
        ['another-fifty', text('another-fifty', 50)],
      ]);
      expect(bySize.map((entry) => entry.error?.code ?? 'created')).toEqual(['created', 'STORAGE_QUOTA_EXCEEDED', 'created']);
      expect(await stored(a, 'batch-bytes')).toEqual({ documents: 2, contents: 2, bytes: 100 });
    });

    it('does not overshoot when uploads race for the last places on both replicas', async () => {
      await quotas().setQuota('race-docs', { maxDocuments: 5 });
      await quotas().setQuota('race-bytes', { maxDocuments: 0, maxStoredBytes: 10 * 100 });
      const keys = await Promise.all(['race-docs', 'race-docs', 'race-bytes', 'race-bytes'].map((tenant) => issueTestKey(a, tenant, 'write')));
      const race = (tenantKeys: typeof keys, size: number) =>
        Promise.all(
          Array.from({ length: 24 }, async (_, n) => {
            const response = await uploadTo(n % 2 === 0 ? a : b, tenantKeys[n % 2].headers, `race-${size}-${n}`, text(`race-${size}-${n}`, size));
            return response.status;
          }),
        );
      const [docs, bytes] = await Promise.all([race(keys.slice(0, 2), 64), race(keys.slice(2), 100)]);
      expect(docs.filter((status) => status === 202)).toHaveLength(5);
      expect(docs.filter((status) => status === 403)).toHaveLength(19);
      expect(bytes.filter((status) => status === 202)).toHaveLength(10);
      expect(bytes.filter((status) => status === 413)).toHaveLength(14);
      expect(await stored(a, 'race-docs')).toEqual({ documents: 5, contents: 5, bytes: 5 * 64 });
      expect(await stored(a, 'race-bytes')).toEqual({ documents: 10, contents: 10, bytes: 1000 });
    });
  });

  describe('security headers and CORS (defaults)', () => {
    it('sends the security headers on answers, errors included, with a policy that lets a browser load nothing from the API', async () => {
      const { headers } = await issueTestKey(a, 'acme', 'read');
      for (const response of [await get(a, '/api/documents', headers), await get(a, '/api/documents'), await get(a, '/health/live')]) {
        expect(response.headers.get('content-security-policy')).toBe("default-src 'none';base-uri 'none';form-action 'none';frame-ancestors 'none'");
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
        expect(response.headers.get('x-frame-options')).toBe('SAMEORIGIN');
        expect(response.headers.get('referrer-policy')).toBe('no-referrer');
        expect(response.headers.get('strict-transport-security')).toMatch(/^max-age=\d+/);
        expect(response.headers.get('cross-origin-opener-policy')).toBe('same-origin');
        expect(response.headers.get('x-powered-by')).toBeNull();
      }
    });

    it("gives the docs UI a policy that allows exactly its own assets, and the page needs nothing else", async () => {
      const page = await get(a, DOCS_UI_PATH);
      expect(page.status).toBe(200);
      const policy = Object.fromEntries(
        (page.headers.get('content-security-policy') ?? '')
          .split(';')
          .map((directive) => directive.trim().split(/\s+/))
          .map(([name, ...values]) => [name, values]),
      );
      expect(policy['script-src']).toEqual(["'self'"]);
      expect(policy['default-src']).toEqual(["'self'"]);
      expect(policy['connect-src']).toEqual(["'self'"]);
      expect(policy['upgrade-insecure-requests']).toBeUndefined();
      const html = await page.text();
      // Every script is a file of the gateway's own ('self'); an inline one would be blocked.
      const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThanOrEqual(3);
      for (const [, attributes, body] of scripts) {
        expect(attributes).toMatch(/src="\.?\//);
        expect(body.trim()).toBe('');
      }
      const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
      for (const asset of assets) {
        const url = new URL(asset, `${a.url}${DOCS_UI_PATH}`);
        expect(url.origin).toBe(new URL(a.url).origin);
        expect({ asset, status: (await call(url)).status }).toEqual({ asset, status: 200 });
      }
      const initializer = await (await call(new URL(assets.find((asset) => asset.endsWith('swagger-initializer.js')) ?? '', `${a.url}${DOCS_UI_PATH}`))).text();
      // The document the UI loads is fetched from the same origin (connect-src 'self').
      expect(initializer).not.toMatch(/["'`]https?:\/\//);
    });

    it('sends no CORS headers unless CORS_ORIGINS is set', async () => {
      const { headers } = await issueTestKey(a, 'acme', 'read');
      const origin = { origin: 'https://app.example.com' };
      const simple = await get(a, '/api/documents', { ...headers, ...origin });
      expect(simple.status).toBe(200);
      expect(simple.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await call(`${a.url}/api/documents`, {
        method: 'OPTIONS',
        headers: { ...origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
      });
      expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
      expect(preflight.headers.get('access-control-allow-headers')).toBeNull();
    });
  });
});

/** A gateway with CORS on, short HTTP timeouts, a per-second burst cap and a small stream cap. */
describe('CORS, bursts, timeouts and the progress-stream cap (configured)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  const open: EventStream[] = [];
  const ALLOWED = 'https://app.example.com';

  beforeAll(async () => {
    schema = await createTestSchema('gwlimits2');
    redis = createTestRedisPrefix('gwlimits2');
    service = await startGateway({
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      CORS_ORIGINS: `${ALLOWED}, http://localhost:5173`,
      RATE_LIMIT_PER_MINUTE: '1000',
      RATE_LIMIT_BURST: '4',
      SSE_MAX_STREAMS_PER_KEY: '2',
      SSE_HEARTBEAT_MS: '300',
      HTTP_HEADERS_TIMEOUT_MS: '1000',
      HTTP_REQUEST_TIMEOUT_MS: '1500',
      HTTP_IDLE_TIMEOUT_MS: '5000',
      REQUEST_TIMEOUT_MS: '3000',
    });
  });

  afterEach(() => {
    for (const stream of open.splice(0)) stream.close();
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  async function stream(headers: Record<string, string>, jobId: string): Promise<EventStream> {
    const events = await EventStream.open(`${service.url}/api/jobs/${jobId}/events`, headers);
    open.push(events);
    return events;
  }

  it('answers a preflight from a listed origin, allowing the key headers, and lets the page read answers and errors', async () => {
    const preflight = await call(`${service.url}/api/documents`, {
      method: 'OPTIONS',
      headers: { origin: ALLOWED, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, x-api-key, content-type' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    const allowedHeaders = (preflight.headers.get('access-control-allow-headers') ?? '').split(',').map((name) => name.trim());
    expect(allowedHeaders).toEqual(expect.arrayContaining(['authorization', 'x-api-key', 'content-type']));
    expect(preflight.headers.get('access-control-allow-methods')).toContain('DELETE');
    expect(preflight.headers.get('access-control-allow-credentials')).toBeNull();

    const { headers } = await issueTestKey(service, 'cors', 'read');
    const answer = await call(`${service.url}/api/documents`, { headers: { ...headers, origin: ALLOWED } });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe(ALLOWED);
    expect(answer.headers.get('access-control-expose-headers')).toContain('ratelimit-remaining');
    const unauthenticated = await call(`${service.url}/api/documents`, { headers: { origin: ALLOWED } });
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.headers.get('access-control-allow-origin')).toBe(ALLOWED);

    for (const origin of ['https://evil.example', 'https://app.example.com.evil.example']) {
      const other = await call(`${service.url}/api/documents`, { headers: { ...headers, origin } });
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('caps bursts at RATE_LIMIT_BURST a second, with a Retry-After of one second', async () => {
    const { headers } = await issueTestKey(service, 'bursty', 'read');
    const responses = await Promise.all(Array.from({ length: 12 }, () => call(`${service.url}/api/documents`, { headers })));
    const refused = responses.filter((response) => response.status === 429);
    // However the twelve fall on second boundaries, at most two windows of 4 fit them.
    expect(responses.filter((response) => response.status === 200).length).toBeLessThanOrEqual(8);
    expect(refused.length).toBeGreaterThanOrEqual(4);
    expect(refused[0].headers.get('retry-after')).toBe('1');
    expect(((await refused[0].json()) as ErrorReply).error.message).toBe('too many requests for this API key: at most 4 requests a second; retry in 1 s');
    await waitFor(async () => (await call(`${service.url}/api/documents`, { headers })).status === 200, {
      timeoutMs: 3000,
      intervalMs: 250,
      description: 'the next second to have room',
    });
  });

  it('caps open progress streams per API key (SSE_MAX_STREAMS_PER_KEY), not per tenant, and frees a slot when a client leaves', async () => {
    const writer = await issueTestKey(service, 'streams', 'write');
    const jobs: Uploaded[] = [];
    for (const name of ['s1', 's2', 's3']) jobs.push((await (await uploadTo(service, writer.headers, name)).json()) as Uploaded);
    const first = await issueTestKey(service, 'streams', 'read');
    const second = await issueTestKey(service, 'streams', 'read');
    const held = [await stream(first.headers, jobs[0].jobId), await stream(first.headers, jobs[1].jobId)];
    expect(held.map((events) => events.status)).toEqual([200, 200]);

    const refused = await call(`${service.url}/api/jobs/${jobs[2].jobId}/events`, { headers: first.headers });
    expect(await expectError(refused, 429, 'RATE_LIMITED')).toBe(
      'at most 2 progress streams per API key may be open at once (SSE_MAX_STREAMS_PER_KEY); close one or retry later',
    );
    expect(refused.headers.get('retry-after')).not.toBeNull();
    // Another key of the same tenant has slots of its own.
    expect((await stream(second.headers, jobs[2].jobId)).status).toBe(200);

    held[0].close();
    await waitFor(
      async () => {
        const again = await stream(first.headers, jobs[2].jobId);
        return again.status === 200;
      },
      { timeoutMs: 3000, intervalMs: 100, description: 'a slot to free up after a client left' },
    );
  });

  it('keeps a progress stream open well past the request and header timeouts', async () => {
    const writer = await issueTestKey(service, 'long-stream', 'write');
    const { jobId } = (await (await uploadTo(service, writer.headers, 'long')).json()) as Uploaded;
    const started = Date.now();
    const events = await stream(writer.headers, jobId);
    expect(events.status).toBe(200);
    // 12 heartbeats at 300 ms: more than twice HTTP_REQUEST_TIMEOUT_MS (1.5 s).
    await events.heartbeats(12, 10_000);
    expect(Date.now() - started).toBeGreaterThan(3000);
    expect(events.ended).toBe(false);
  });

  it('answers 408 to a client that does not finish its headers in time (HTTP_HEADERS_TIMEOUT_MS)', async () => {
    const connection = await RawConnection.open(service.url);
    const started = Date.now();
    await connection.write('GET /api/documents HTTP/1.1\r\nHost: gateway\r\nx-slow: ');
    const response = await connection.response(5000);
    expect(response.status).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    await connection.serverClosed(2000);
  });

  it('answers 408 to an upload whose body stalls (HTTP_REQUEST_TIMEOUT_MS)', async () => {
    const { key } = await issueTestKey(service, 'stalled', 'write');
    const connection = await RawConnection.open(service.url);
    const started = Date.now();
    await connection.write(
      'POST /api/documents HTTP/1.1\r\nHost: gateway\r\n' +
        `authorization: Bearer ${key}\r\ncontent-type: multipart/form-data; boundary=b\r\ncontent-length: 100000\r\n\r\n` +
        '--b\r\nContent-Disposition: form-data; name="file"; filename="slow.md"\r\n\r\n# slow',
    );
    const response = await connection.response(5000);
    expect(response.status).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1400);
    await connection.serverClosed(2000);
    expect(await stored(service, 'stalled')).toEqual({ documents: 0, contents: 0, bytes: 0 });
  });
});

/**
 * Redis down: the limiter cannot count in Redis, so each replica counts in its own memory with
 * the same limits. Requests keep being served (and limited) instead of failing.
 */
describe('rate limits while Redis is down (trusted-header mode: per tenant)', () => {
  let schema: TestSchema;
  let privateRedis: PrivateRedis;
  let service: RunningService<GatewayConfig>;
  const headersOf = (tenant: string) => ({ 'x-tenant-id': tenant });

  beforeAll(async () => {
    schema = await createTestSchema('gwlimits3');
    privateRedis = await PrivateRedis.start();
    service = await startGateway({
      ...BEHIND_TRUSTED_PROXY,
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: privateRedis.url,
      REDIS_PREFIX: 'limits',
      RATE_LIMIT_PER_MINUTE: '4',
      RATE_LIMIT_BURST: '0',
    });
  });

  afterAll(async () => {
    if (privateRedis && !privateRedis.running) await privateRedis.restartEmpty();
    await service?.close();
    await privateRedis?.stop();
    await schema?.drop();
  });

  const list = (tenant: string) => call(`${service.url}/api/documents`, { headers: headersOf(tenant) });

  it('limits a tenant as a whole when no key is involved', async () => {
    for (let sent = 0; sent < 4; sent++) expect((await list('proxied')).status).toBe(200);
    const refused = await list('proxied');
    const message = await expectError(refused, 429, 'RATE_LIMITED');
    expect(message).toBe(`too many requests for this tenant: at most 4 requests a minute; retry in ${refused.headers.get('retry-after')} s`);
    expect((await list('other-tenant')).status).toBe(200);
  });

  it('keeps serving and limiting in-process while Redis is down, and counts in Redis again once it is back', async () => {
    await privateRedis.kill();
    for (let sent = 0; sent < 4; sent++) {
      const response = await list('during-outage');
      expect({ sent, status: response.status }).toEqual({ sent, status: 200 });
    }
    await expectError(await list('during-outage'), 429, 'RATE_LIMITED');

    // Back, and empty: the tenant's in-process count (spent) no longer applies, Redis's (fresh) does.
    await privateRedis.restartEmpty();
    await waitFor(async () => (await list('during-outage')).status === 200, { timeoutMs: 15_000, intervalMs: 250, description: 'the limiter to count in Redis again' });
  });
});
