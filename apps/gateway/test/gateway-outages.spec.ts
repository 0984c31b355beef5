import type { RunningService } from '@quarry/service-kit';
import { PrivatePostgres, PrivateRedis, waitFor } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import type { JobView } from '../src/jobs/jobs.service';
import { EventStream } from './event-stream';
import { BEHIND_TRUSTED_PROXY, startGateway } from './start-gateway';

interface ErrorReply {
  error: { code: string; message: string; correlationId: string };
}

// What drivers say; none of it may reach a client.
const DRIVER_TEXT = /ECONNREFUSED|ECONNRESET|127\.0\.0\.1|starting up|shutting down|terminat|Stream isn't|enableOfflineQueue|max retries|ioredis|QueryFailed|Connection is closed/i;

/** The gateway on a Postgres and a Redis of its own, which the tests stop and start. */
describe('gateway during Postgres and Redis outages', () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let service: RunningService<GatewayConfig>;

  beforeAll(async () => {
    [postgres, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
    service = await startGateway({
      ...BEHIND_TRUSTED_PROXY,
      DATABASE_URL: postgres.url,
      REDIS_URL: redis.url,
      REDIS_PREFIX: 'gw-outage',
      SSE_HEARTBEAT_MS: '200',
      DATABASE_STATEMENT_TIMEOUT_MS: '5000',
    });
  }, 60_000);

  afterAll(async () => {
    await service?.close();
    await Promise.all([redis?.stop(), postgres?.destroy()]);
  }, 30_000);

  const api = (path: string, init: RequestInit = {}) => fetch(`${service.url}${path}`, { ...init, headers: { 'x-tenant-id': 'outage', ...init.headers } });
  const ask = () => api('/api/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'Who is there?' }) });
  function upload(name: string): Promise<Response> {
    const form = new FormData();
    form.append('file', new Blob([`# ${name}\n\nText of ${name}.`]), `${name}.md`);
    return api('/api/documents', { method: 'POST', body: form });
  }

  /** A 503 SERVICE_UNAVAILABLE in the documented shape, with Retry-After, naming what is down and nothing of the driver. */
  async function unavailable(response: Response, what: RegExp): Promise<string> {
    const body = (await response.json()) as ErrorReply;
    expect({ status: response.status, code: body.error.code }).toEqual({ status: 503, code: 'SERVICE_UNAVAILABLE' });
    expect(response.headers.get('retry-after')).toBe('5');
    expect(body.error.correlationId).toBe(response.headers.get('x-correlation-id'));
    expect(body.error.message).toMatch(what);
    expect(body.error.message).not.toMatch(DRIVER_TEXT);
    return body.error.message;
  }

  it('answers 503 naming Redis while Redis is down, and recovers when it is back', async () => {
    const before = await upload('before-redis');
    expect(before.status).toBe(202);
    await redis.kill();
    try {
      const askedAt = Date.now();
      await unavailable(await ask(), /Redis/);
      expect(Date.now() - askedAt).toBeLessThan(2000);
      // A streamed answer too: refused before the stream opens, at once (not after Redis comes back).
      const streamedAt = Date.now();
      await unavailable(await api('/api/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question: 'Who is there?', stream: true }) }), /Redis/);
      expect(Date.now() - streamedAt).toBeLessThan(2000);
      // The document cannot be queued: the answer says so, without ioredis text, and nothing stays behind.
      await unavailable(await upload('during-redis'), /Redis/);
      // Reads from Postgres still work.
      const listed = (await (await api('/api/documents')).json()) as { items: Array<{ filename: string }> };
      expect(listed.items.map((item) => item.filename)).not.toContain('during-redis.md');
    } finally {
      await redis.restart();
    }
    // The same upload again is a new upload, not a "duplicate" of one that never got queued.
    await waitFor(async () => (await upload('during-redis')).status === 202, {
      timeoutMs: 15_000,
      intervalMs: 250,
      description: 'uploads to work again after Redis is back',
    });
  }, 30_000);

  it('answers 503 naming Postgres while Postgres is down; open progress streams keep their heartbeats and resume', async () => {
    const uploaded = await upload('streamed');
    expect(uploaded.status).toBe(202);
    const { jobId, documentId } = (await uploaded.json()) as { jobId: string; documentId: string };
    const events = await EventStream.open(`${service.url}/api/jobs/${jobId}/events`, { 'x-tenant-id': 'outage' });
    await events.next((event) => event.event === 'progress');

    await postgres.stopServer('immediate');
    try {
      await unavailable(await api(`/api/jobs/${jobId}`), /database \(Postgres\)/);
      await unavailable(await api(`/api/documents/${documentId}`), /database \(Postgres\)/);
      await unavailable(await api('/api/documents'), /database \(Postgres\)/);
      await unavailable(await upload('during-postgres'), /database \(Postgres\)/);
      await unavailable(await api(`/api/jobs/${jobId}/events`), /database \(Postgres\)/);
      // A stream opened before the outage lives on: heartbeats only, no error event.
      const heartbeats = events.comments;
      await events.heartbeats(heartbeats + 5, 5000);
      expect(events.ended).toBe(false);
      expect(events.events.map((event) => event.event)).toEqual(['progress']);
    } finally {
      await postgres.startServer();
    }

    // What the pipeline would write once the database is back reaches the stream.
    await waitFor(
      async () => {
        await service.kit.dataSource.query(`UPDATE documents SET status = 'indexed', stage = 'index', progress = 100 WHERE id = $1`, [documentId]);
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 250, description: 'Postgres to take writes again' },
    );
    await events.closedByServer(10_000);
    expect(events.events.map((event) => event.event)).toEqual(['progress', 'progress', 'done']);
    expect((events.events[2].data as JobView).status).toBe('indexed');
    expect((await api(`/api/jobs/${jobId}`)).status).toBe(200);
  }, 60_000);
});
