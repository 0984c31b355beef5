import 'reflect-metadata';
import { createHash } from 'node:crypto';
import { JobName, QueueName, ingestJobId } from '@quarry/contracts';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { redisOptionsFromUrl } from '@quarry/transport';
import { Queue } from 'bullmq';
import type { GatewayConfig } from '../src/config';
import type { DocumentView } from '../src/documents/document-view';
import { BEHIND_TRUSTED_PROXY, startGateway } from './start-gateway';

const MAX_UPLOAD_BYTES = 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface ErrorReply {
  error: { code: string; message: string; correlationId: string };
}

interface UploadReply {
  documentId: string;
  jobId: string;
  status: string;
}

type DocumentReply = DocumentView & { processing: unknown[] };

interface ListReply {
  items: DocumentReply[];
  total: number;
  limit: number;
  offset: number;
}

interface UploadOptions {
  tenant?: string;
  tags?: string[];
  folder?: string;
  type?: string;
}

describe('gateway over HTTP (in-process, real Postgres and Redis)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  let ingestionQueue: Queue;

  beforeAll(async () => {
    schema = await createTestSchema('gateway');
    redis = createTestRedisPrefix('gateway');
    service = await startGateway({
      ...BEHIND_TRUSTED_PROXY,
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
    });
    ingestionQueue = new Queue(QueueName.Ingestion, { connection: redisOptionsFromUrl(redis.url), prefix: redis.prefix });
  });

  afterAll(async () => {
    await ingestionQueue?.close();
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  // Every request names its tenant, as the authenticating proxy in front of the gateway would.
  const api = (path: string, init: RequestInit = {}) => fetch(`${service.url}${path}`, { ...init, headers: { 'x-tenant-id': 'default', ...(init.headers as Record<string, string> | undefined) } });
  const asTenant = (tenant = 'default'): Record<string, string> => ({ 'x-tenant-id': tenant });

  function upload(filename: string, content: string | Uint8Array, options: UploadOptions = {}): Promise<Response> {
    const form = new FormData();
    for (const tag of options.tags ?? []) form.append('tags', tag);
    if (options.folder !== undefined) form.append('folder', options.folder);
    form.append('file', new Blob([content], { type: options.type ?? 'text/plain' }), filename);
    return api('/api/documents', { method: 'POST', body: form, headers: asTenant(options.tenant) });
  }

  async function uploaded(filename: string, content: string, options: UploadOptions = {}): Promise<UploadReply> {
    const response = await upload(filename, content, options);
    expect(response.status).toBe(202);
    return (await response.json()) as UploadReply;
  }

  async function expectError(response: Response, status: number, code: string): Promise<ErrorReply['error']> {
    expect(response.headers.get('content-type')).toContain('application/json');
    const body = (await response.json()) as ErrorReply;
    expect({ status: response.status, code: body.error?.code }).toEqual({ status, code });
    expect(body.error.message).toEqual(expect.any(String));
    expect(body.error.correlationId).toBe(response.headers.get('x-correlation-id'));
    return body.error;
  }

  const documentCount = async (tenant: string) =>
    ((await (await api('/api/documents', { headers: asTenant(tenant) })).json()) as ListReply).total;

  it('accepts a Markdown upload with 202 and a deterministic ingestion job, and shows it queued', async () => {
    const content = '# Vacation\n\nEmployees receive 27 days of paid vacation per year.\n';
    const response = await upload('handbook.md', content, { tenant: 'acme', tags: ['hr, policy', 'hr'], folder: 'company//handbook/' });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-correlation-id')).toEqual(expect.any(String));
    const body = (await response.json()) as UploadReply;
    const sha256 = createHash('sha256').update(content).digest('hex');
    expect(body.documentId).toMatch(UUID);
    expect(body).toEqual({ documentId: body.documentId, jobId: ingestJobId(body.documentId, sha256), status: 'queued', duplicate: false });

    const read = await api(`/api/documents/${body.documentId}`, { headers: asTenant('acme') });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({
      id: body.documentId,
      filename: 'handbook.md',
      mediaType: 'text/markdown',
      sizeBytes: Buffer.byteLength(content),
      sha256,
      tags: ['hr', 'policy'],
      folder: '/company/handbook',
      status: 'queued',
      error: null,
      chunkCount: 0,
      processing: [],
    });

    const job = await ingestionQueue.getJob(body.jobId);
    expect(job).toBeDefined();
    expect(job?.name).toBe(JobName.IngestDocument);
    expect(job?.data).toEqual({ tenantId: 'acme', documentId: body.documentId, sha256, correlationId: response.headers.get('x-correlation-id') });
    expect(job?.opts.attempts).toBe(5);
    // Prioritized: every upload carries its tenant's fair-share priority.
    await expect(job?.getState()).resolves.toBe('prioritized');
  });

  it('keeps the caller\'s correlation id on the reply and on the job', async () => {
    const form = new FormData();
    form.append('file', new Blob(['traced']), 'trace.txt');
    const response = await api('/api/documents', { method: 'POST', body: form, headers: { 'x-correlation-id': 'trace-me-42' } });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-correlation-id')).toBe('trace-me-42');
    const { jobId } = (await response.json()) as UploadReply;
    expect((await ingestionQueue.getJob(jobId))?.data).toMatchObject({ tenantId: 'default', correlationId: 'trace-me-42' });
  });

  it('refuses an unsupported file type with 415 and stores nothing', async () => {
    const before = await documentCount('types');
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
    const error = await expectError(await upload('diagram.md', png, { tenant: 'types' }), 415, 'UNSUPPORTED_TYPE');
    expect(error.message).toContain('PNG image');
    await expectError(await upload('archive.txt', new Uint8Array([0x1f, 0x8b, 8, 0, 0, 0]), { tenant: 'types' }), 415, 'UNSUPPORTED_TYPE');
    expect(await documentCount('types')).toBe(before);
  });

  it('refuses an empty file with 422', async () => {
    const error = await expectError(await upload('empty.txt', '', { tenant: 'empty' }), 422, 'EMPTY_DOCUMENT');
    expect(error.message).toBe('"empty.txt" is empty');
    expect(await documentCount('empty')).toBe(0);
  });

  it('refuses a file over MAX_UPLOAD_BYTES with 413 PAYLOAD_TOO_LARGE and stores nothing', async () => {
    await uploaded('exactly.txt', 'x'.repeat(MAX_UPLOAD_BYTES), { tenant: 'big' });
    const error = await expectError(await upload('big.txt', 'x'.repeat(MAX_UPLOAD_BYTES + 1), { tenant: 'big' }), 413, 'PAYLOAD_TOO_LARGE');
    expect(error.message).toContain('MAX_UPLOAD_BYTES');
    expect(await documentCount('big')).toBe(1);
  });

  it('refuses malformed uploads with 400', async () => {
    const notMultipart = await api('/api/documents', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect((await expectError(notMultipart, 400, 'INVALID_PAYLOAD')).message).toContain('multipart/form-data');

    const noFile = new FormData();
    noFile.append('tags', 'hr');
    const missing = await api('/api/documents', { method: 'POST', body: noFile });
    expect((await expectError(missing, 400, 'INVALID_PAYLOAD')).message).toBe('the "file" part is missing');

    const twoFiles = new FormData();
    twoFiles.append('file', new Blob(['one']), 'one.txt');
    twoFiles.append('file', new Blob(['two']), 'two.txt');
    const two = await api('/api/documents', { method: 'POST', body: twoFiles, headers: asTenant('tags') });
    expect((await expectError(two, 400, 'INVALID_PAYLOAD')).message).toBe('send one file per request to this endpoint');

    const manyFields = new FormData();
    manyFields.append('file', new Blob(['fields']), 'fields.txt');
    for (let i = 0; i < 25; i++) manyFields.append('tags', `t${i}`);
    const crowded = await api('/api/documents', { method: 'POST', body: manyFields, headers: asTenant('tags') });
    expect((await expectError(crowded, 400, 'INVALID_PAYLOAD')).message).toContain('too many fields');

    const badTags = await expectError(await upload('tags.md', '# T', { tenant: 'tags', tags: ['[oops'] }), 400, 'INVALID_PAYLOAD');
    expect(badTags.message).toMatch(/^tags: /);
    const commaTag = await expectError(await upload('tags.md', '# T', { tenant: 'tags', tags: ['["a,b"]'] }), 400, 'INVALID_PAYLOAD');
    expect(commaTag.message).toBe('tags: a tag may not contain ","');
    const longFolder = await expectError(await upload('f.md', '# T', { tenant: 'tags', folder: 'x'.repeat(600) }), 400, 'INVALID_PAYLOAD');
    expect(longFolder.message).toMatch(/^folder: /);
    expect(await documentCount('tags')).toBe(0);
  });

  it('refuses a malformed x-tenant-id with 400', async () => {
    for (const tenant of ['Not_Valid!', '', '-leading-dash', 'x'.repeat(64)]) {
      const error = await expectError(await api('/api/documents', { headers: { 'x-tenant-id': tenant } }), 400, 'INVALID_PAYLOAD');
      expect(error.message).toMatch(/^x-tenant-id: /);
    }
    await expectError(await upload('a.md', '# A', { tenant: 'BAD TENANT' }), 400, 'INVALID_PAYLOAD');
  });

  it('keeps tenants apart: another tenant\'s document is 404 and absent from its list', async () => {
    const { documentId } = await uploaded('secret.md', '# Secret\n\nonly for tenant a', { tenant: 'tenant-a' });

    await expectError(await api(`/api/documents/${documentId}`, { headers: asTenant('tenant-b') }), 404, 'NOT_FOUND');
    await expectError(await api(`/api/documents/${documentId}`), 404, 'NOT_FOUND');
    const listOfB = (await (await api('/api/documents', { headers: asTenant('tenant-b') })).json()) as ListReply;
    expect(listOfB.items.map((item) => item.id)).not.toContain(documentId);
    await expectError(await api(`/api/documents/${documentId}`, { method: 'DELETE', headers: asTenant('tenant-b') }), 404, 'NOT_FOUND');

    expect((await api(`/api/documents/${documentId}`, { headers: asTenant('tenant-a') })).status).toBe(200);
  });

  it('lists a tenant\'s documents newest first, page by page', async () => {
    const ids: string[] = [];
    for (const name of ['one', 'two', 'three']) ids.push((await uploaded(`${name}.txt`, `document ${name}`, { tenant: 'pager' })).documentId);
    const page = async (query: string) => {
      const response = await api(`/api/documents${query}`, { headers: asTenant('pager') });
      expect(response.status).toBe(200);
      return (await response.json()) as ListReply;
    };

    const first = await page('?limit=2');
    expect(first).toMatchObject({ total: 3, limit: 2, offset: 0 });
    expect(first.items.map((item) => item.filename)).toEqual(['three.txt', 'two.txt']);
    const second = await page('?limit=2&offset=2');
    expect(second).toMatchObject({ total: 3, limit: 2, offset: 2 });
    expect(second.items.map((item) => item.id)).toEqual([ids[0]]);
    expect((await page('?offset=3')).items).toEqual([]);
    expect((await page('')).limit).toBe(50);
    expect((await page('?status=queued')).total).toBe(3);
    expect((await page('?status=indexed')).total).toBe(0);

    for (const query of ['?limit=0', '?limit=201', '?offset=-1', '?status=bogus', '?limit=abc']) {
      await expectError(await api(`/api/documents${query}`, { headers: asTenant('pager') }), 400, 'INVALID_PAYLOAD');
    }
  });

  it('deletes a document: 204, then 404 for reads and deletes', async () => {
    const { documentId } = await uploaded('doomed.md', '# Doomed', { tenant: 'deleter' });

    const deleted = await api(`/api/documents/${documentId}`, { method: 'DELETE', headers: asTenant('deleter') });
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');

    await expectError(await api(`/api/documents/${documentId}`, { headers: asTenant('deleter') }), 404, 'NOT_FOUND');
    await expectError(await api(`/api/documents/${documentId}`, { method: 'DELETE', headers: asTenant('deleter') }), 404, 'NOT_FOUND');
    expect(await documentCount('deleter')).toBe(0);
  });

  it('refuses a document id that is not a UUID with 400', async () => {
    const error = await expectError(await api('/api/documents/not-a-uuid'), 400, 'INVALID_PAYLOAD');
    expect(error.message).toContain('document id must be a UUID');
    await expectError(await api('/api/documents/not-a-uuid', { method: 'DELETE' }), 400, 'INVALID_PAYLOAD');
  });

  it('answers a query with 503 SERVICE_UNAVAILABLE at once when no agent is running', async () => {
    const started = Date.now();
    const response = await api('/api/query', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' },
      body: JSON.stringify({ question: 'How many vacation days do we get?' }),
    });
    const error = await expectError(response, 503, 'SERVICE_UNAVAILABLE');
    expect(error.message).toContain('agent');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses an invalid query with 400 naming the field', async () => {
    const ask = (body: string) => api('/api/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body });

    expect((await expectError(await ask(JSON.stringify({ question: '   ' })), 400, 'INVALID_PAYLOAD')).message).toBe(
      'question: question must not be empty',
    );
    expect((await expectError(await ask(JSON.stringify({})), 400, 'INVALID_PAYLOAD')).message).toMatch(/^question: /);
    expect((await expectError(await ask(JSON.stringify({ question: 'q', topK: 0 })), 400, 'INVALID_PAYLOAD')).message).toMatch(/^topK: /);
    expect(
      (await expectError(await ask(JSON.stringify({ question: 'q', filters: { documentIds: ['nope'] } })), 400, 'INVALID_PAYLOAD')).message,
    ).toMatch(/^filters\.documentIds\.0: /);
    expect((await expectError(await ask(JSON.stringify({ question: 'q', extra: true })), 400, 'INVALID_PAYLOAD')).message).toContain('extra');
    await expectError(await ask('{"question": '), 400, 'INVALID_PAYLOAD');
  });

  it('answers unknown routes with 404 in the same JSON shape', async () => {
    await expectError(await api('/api/nowhere'), 404, 'NOT_FOUND');
  });

  it('reports ready, and serves metrics', async () => {
    expect((await api('/health/ready')).status).toBe(200);
    const metrics = await (await api('/metrics')).text();
    expect(metrics).toContain('quarry_http_request_duration_seconds');
  });
  it('returns the existing document for the same content, and one document for concurrent duplicates', async () => {
    const first = await uploaded('dup.md', '# Same content\n\nOnly once.', { tenant: 'dedup' });
    const again = await upload('renamed.md', '# Same content\n\nOnly once.', { tenant: 'dedup' });
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ ...first, duplicate: true });
    // Another tenant's identical file is its own document.
    expect((await uploaded('dup.md', '# Same content\n\nOnly once.', { tenant: 'other-dedup' })).documentId).not.toBe(first.documentId);

    const racing = await Promise.all(Array.from({ length: 6 }, () => upload('race.md', '# Race\n\nSix at once.', { tenant: 'dedup' })));
    const bodies = (await Promise.all(racing.map((response) => response.json()))) as UploadReply[];
    expect(new Set(bodies.map((body) => body.documentId)).size).toBe(1);
    expect(racing.map((response) => response.status).sort()).toEqual([200, 200, 200, 200, 200, 202]);
    expect(await documentCount('dedup')).toBe(2);
  });

  it('uploads many files in one request; a bad file fails alone', async () => {
    const form = new FormData();
    form.append('tags', 'bulk');
    form.append('file', new Blob(['# One\n\nFirst file.']), 'one.md');
    form.append('file', new Blob(['Second file.']), 'two.txt');
    form.append('file', new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16])]), 'three.jpg');
    const response = await api('/api/documents/batch', { method: 'POST', body: form, headers: asTenant('bulk') });
    expect(response.status).toBe(202);
    const { documents } = (await response.json()) as { documents: Array<UploadReply & { filename: string; error?: { code: string } }> };
    expect(documents.map((document) => [document.filename, document.status ?? document.error?.code])).toEqual([
      ['one.md', 'queued'],
      ['two.txt', 'queued'],
      ['three.jpg', 'UNSUPPORTED_TYPE'],
    ]);
    expect(await documentCount('bulk')).toBe(2);
  });

  it('gives a waiting tenant’s single upload priority over another tenant’s batch', async () => {
    for (let index = 0; index < 3; index++) await uploaded(`batch-${index}.md`, `# Batch ${index}\n\nBig tenant.`, { tenant: 'busy-tenant' });
    const single = await uploaded('single.md', '# Single\n\nSmall tenant.', { tenant: 'small' });
    const priorities = async (jobId: string) => (await ingestionQueue.getJob(jobId))?.opts.priority;
    expect(await priorities(single.jobId)).toBe(1);
    const waiting = new Map((await ingestionQueue.getJobs(['prioritized'])).map((job) => [job.id, job]));
    const bigPriorities = [...waiting.values()].filter((job) => (job.data as { tenantId: string }).tenantId === 'busy-tenant').map((job) => job.opts.priority);
    expect(bigPriorities.sort()).toEqual([1, 2, 3]);
  });

  it('shows an ingestion job, cancels it with its queued steps, and streams its progress', async () => {
    const { jobId, documentId } = await uploaded('cancel-me.md', '# Cancel\n\nPlease stop.', { tenant: 'jobs' });
    const view = await api(`/api/jobs/${jobId}`, { headers: asTenant('jobs') });
    expect(await view.json()).toMatchObject({ id: jobId, documentId, status: 'queued', progress: 0, attempts: [] });
    await expectError(await api(`/api/jobs/${jobId}`, { headers: asTenant('not-jobs') }), 404, 'NOT_FOUND');
    await expectError(await api('/api/jobs/nonsense', { headers: asTenant('jobs') }), 404, 'NOT_FOUND');

    const cancelled = await api(`/api/jobs/${jobId}/cancel`, { method: 'POST', headers: asTenant('jobs') });
    expect(cancelled.status).toBe(202);
    expect(await cancelled.json()).toMatchObject({ status: 'cancelled', error: 'cancelled by request' });
    expect(await ingestionQueue.getJob(jobId)).toBeUndefined();
    await expectError(await api(`/api/jobs/${jobId}/cancel`, { method: 'POST', headers: asTenant('jobs') }), 409, 'CONFLICT');

    const events = await api(`/api/jobs/${jobId}/events`, { headers: asTenant('jobs') });
    expect(events.headers.get('content-type')).toContain('text/event-stream');
    const text = await events.text();
    expect(text).toMatch(/^event: progress\ndata: .*"status":"cancelled"/);
    expect(text).toContain('event: done');
  });
});
