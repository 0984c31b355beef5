import { DocumentRepository, ProcessingJobRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import type { JobView } from '../src/jobs/jobs.service';
import { EventStream } from './event-stream';
import { BEHIND_TRUSTED_PROXY, startGateway } from './start-gateway';

const MAX_STREAMS = 3;

interface Uploaded {
  documentId: string;
  jobId: string;
}

describe('gateway progress streams (shared poller, per-tenant cap)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  const open: EventStream[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('gwsse');
    redis = createTestRedisPrefix('gwsse');
    service = await startGateway({
      ...BEHIND_TRUSTED_PROXY,
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      SSE_MAX_STREAMS_PER_KEY: String(MAX_STREAMS),
      SSE_HEARTBEAT_MS: '200',
    });
  });

  afterEach(() => {
    for (const stream of open.splice(0)) stream.close();
    jest.restoreAllMocks();
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  let uploads = 0;
  async function upload(tenant: string): Promise<Uploaded> {
    const form = new FormData();
    form.append('file', new Blob([`# Document ${++uploads}\n\nSome text for ${tenant}.`]), `doc-${uploads}.md`);
    const response = await fetch(`${service.url}/api/documents`, { method: 'POST', body: form, headers: { 'x-tenant-id': tenant } });
    expect(response.status).toBe(202);
    return (await response.json()) as Uploaded;
  }

  async function stream(tenant: string, jobId: string): Promise<EventStream> {
    const events = await EventStream.open(`${service.url}/api/jobs/${jobId}/events`, { 'x-tenant-id': tenant });
    open.push(events);
    return events;
  }

  /** What an ingestion step does to the row (the gateway only reads it). */
  const setProgress = (documentId: string, fields: { status: string; stage?: string | null; progress?: number }) =>
    service.kit.dataSource.query('UPDATE documents SET status = $2, stage = $3, progress = $4, updated_at = now() WHERE id = $1', [
      documentId,
      fields.status,
      fields.stage ?? null,
      fields.progress ?? 0,
    ]);

  const views = (events: EventStream, name: string) => events.events.filter((event) => event.event === name).map((event) => event.data as JobView);

  it('sends progress on every change, in order, then done, and ends the stream', async () => {
    const { documentId, jobId } = await upload('sse');
    const events = await stream('sse', jobId);
    expect(events.header('content-type')).toContain('text/event-stream');
    await events.next((event) => event.event === 'progress', 2000, 'the first progress event');

    await setProgress(documentId, { status: 'processing', stage: 'chunk', progress: 40 });
    await events.next((event) => event.event === 'progress' && (event.data as JobView).stage === 'chunk', 3000, 'the chunk progress');
    await setProgress(documentId, { status: 'processing', stage: 'embed', progress: 70 });
    await events.next((event) => event.event === 'progress' && (event.data as JobView).stage === 'embed', 3000, 'the embed progress');
    await setProgress(documentId, { status: 'indexed', stage: 'index', progress: 90 });
    await events.closedByServer(3000);

    expect(events.events.map((event) => event.event)).toEqual(['progress', 'progress', 'progress', 'progress', 'done']);
    expect(views(events, 'progress').map((view) => [view.status, view.stage, view.progress])).toEqual([
      ['queued', null, 0],
      ['processing', 'chunk', 40],
      ['processing', 'embed', 70],
      ['indexed', 'index', 100],
    ]);
    expect(views(events, 'done')[0]).toMatchObject({ id: jobId, documentId, status: 'indexed', progress: 100, attempts: [] });
  });

  it('sends nothing but heartbeats while nothing changes, and the same change once to every stream of a job', async () => {
    const { documentId, jobId } = await upload('sse-shared');
    const first = await stream('sse-shared', jobId);
    const second = await stream('sse-shared', jobId);
    await first.heartbeats(2, 2000);
    await second.heartbeats(2, 2000);
    expect([first.events.length, second.events.length]).toEqual([1, 1]);

    await setProgress(documentId, { status: 'processing', stage: 'parse', progress: 10 });
    for (const events of [first, second]) {
      await events.next((event) => (event.data as JobView).stage === 'parse', 3000, 'the parse progress');
    }
    await first.heartbeats(first.comments + 2, 2000);
    expect(views(first, 'progress').map((view) => view.stage)).toEqual([null, 'parse']);
    expect(views(second, 'progress').map((view) => view.stage)).toEqual([null, 'parse']);
  });

  it('reads every watched document with one query per interval, and the history only of a changed one', async () => {
    const tenants = ['poll-a', 'poll-b', 'poll-c'];
    const jobs: Array<Uploaded & { tenant: string }> = [];
    for (const tenant of tenants) for (let index = 0; index < MAX_STREAMS; index++) jobs.push({ tenant, ...(await upload(tenant)) });
    const polls = jest.spyOn(DocumentRepository.prototype, 'progressChanges');
    const histories = jest.spyOn(ProcessingJobRepository.prototype, 'forDocument');
    const streams = await Promise.all(jobs.map((job) => stream(job.tenant, job.jobId)));
    await Promise.all(streams.map((events) => events.next((event) => event.event === 'progress', 3000)));
    histories.mockClear();
    polls.mockClear();

    const windowMs = 1500;
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    // One poll per 250 ms for all nine streams (one loop per stream would make about 9 × 6).
    expect(polls.mock.calls.length).toBeGreaterThanOrEqual(3);
    expect(polls.mock.calls.length).toBeLessThanOrEqual(windowMs / 250 + 1);
    for (const [keys] of polls.mock.calls) expect(keys).toHaveLength(jobs.length);
    expect(histories).not.toHaveBeenCalled();

    await setProgress(jobs[4].documentId, { status: 'processing', stage: 'embed', progress: 55 });
    await streams[4].next((event) => (event.data as JobView).stage === 'embed', 3000, 'the embed progress');
    expect(histories.mock.calls).toEqual([[jobs[4].tenant, jobs[4].documentId]]);
    expect(streams.map((events) => events.events.length)).toEqual(jobs.map((_, index) => (index === 4 ? 2 : 1)));
  });

  it('polls tenant-scoped: another tenant\'s document id reads as gone', async () => {
    const { documentId } = await upload('scope-owner');
    const documents = new DocumentRepository(service.kit.dataSource);
    const queued = { status: 'queued' as const, stage: null, progress: 0 };
    expect(await documents.progressChanges([{ tenantId: 'scope-intruder', id: documentId, ...queued }])).toEqual([
      { gone: true, id: documentId, tenantId: 'scope-intruder' },
    ]);
    expect(await documents.progressChanges([{ tenantId: 'scope-owner', id: documentId, ...queued }])).toEqual([]);
    expect(await documents.progressChanges([{ tenantId: 'scope-owner', id: documentId, ...queued, progress: 5 }])).toEqual([
      expect.objectContaining({ gone: false, id: documentId, tenantId: 'scope-owner', status: 'queued', progress: 0 }),
    ]);
    const view = await fetch(`${service.url}/api/jobs/${(await upload('scope-owner')).jobId}/events`, { headers: { 'x-tenant-id': 'scope-intruder' } });
    expect(view.status).toBe(404);
  });

  it(`caps open streams per tenant (trusted-header mode: no key) at SSE_MAX_STREAMS_PER_KEY (${MAX_STREAMS}) with 429, and frees a slot when a client leaves`, async () => {
    const jobs = await Promise.all(Array.from({ length: MAX_STREAMS + 1 }, () => upload('capped')));
    const held: EventStream[] = [];
    for (const job of jobs.slice(0, MAX_STREAMS)) {
      const events = await stream('capped', job.jobId);
      expect(events.status).toBe(200);
      held.push(events);
    }
    const refused = await fetch(`${service.url}/api/jobs/${jobs[MAX_STREAMS].jobId}/events`, { headers: { 'x-tenant-id': 'capped' } });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('10');
    const body = (await refused.json()) as { error: { code: string; message: string; correlationId: string } };
    expect(body.error).toEqual({
      code: 'RATE_LIMITED',
      message: `at most ${MAX_STREAMS} progress streams per tenant may be open at once (SSE_MAX_STREAMS_PER_KEY); close one or retry later`,
      correlationId: refused.headers.get('x-correlation-id'),
    });
    // Other tenants are not affected, and status reads are not streams.
    expect((await stream('not-capped', (await upload('not-capped')).jobId)).status).toBe(200);
    expect((await fetch(`${service.url}/api/jobs/${jobs[0].jobId}`, { headers: { 'x-tenant-id': 'capped' } })).status).toBe(200);

    held[0].close();
    await waitFor(
      async () => {
        const again = await EventStream.open(`${service.url}/api/jobs/${jobs[MAX_STREAMS].jobId}/events`, { 'x-tenant-id': 'capped' });
        open.push(again);
        return again.status === 200;
      },
      { timeoutMs: 3000, intervalMs: 100, description: 'a slot to free up after a client left' },
    );
  });

  it('does not count a stream refused for an unknown job against the cap', async () => {
    for (let attempt = 0; attempt < MAX_STREAMS + 2; attempt++) {
      const missing = await fetch(`${service.url}/api/jobs/ingest-00000000-0000-4000-8000-000000000000-${'a'.repeat(64)}/events`, {
        headers: { 'x-tenant-id': 'missing' },
      });
      expect(missing.status).toBe(404);
    }
    expect((await stream('missing', (await upload('missing')).jobId)).status).toBe(200);
  });

  it('sends an error event and ends the stream when the document is deleted', async () => {
    const { documentId, jobId } = await upload('sse-deleted');
    const events = await stream('sse-deleted', jobId);
    await events.next((event) => event.event === 'progress');
    expect((await fetch(`${service.url}/api/documents/${documentId}`, { method: 'DELETE', headers: { 'x-tenant-id': 'sse-deleted' } })).status).toBe(204);
    await events.closedByServer(3000);
    expect(events.events.map((event) => event.event)).toEqual(['progress', 'error']);
    expect(events.events[1].data).toEqual({ code: 'NOT_FOUND', message: `job ${jobId} not found` });
  });

  it('ends the open streams when the gateway shuts down', async () => {
    const events = await stream('sse-shutdown', (await upload('sse-shutdown')).jobId);
    await events.next((event) => event.event === 'progress');
    await service.close();
    await events.closedByServer(3000);
  });
});
