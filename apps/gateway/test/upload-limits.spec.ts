import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import { RawConnection, type RawResponse } from './raw-http';
import { BEHIND_TRUSTED_PROXY, startGateway } from './start-gateway';

const MAX_UPLOAD_BYTES = 64 * 1024;
const BOUNDARY = 'QuarryTestBoundary7MA4YWxk';
const SIXTY_MB = 60 * 1024 * 1024;

const field = (name: string, value: string) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
const filePart = (filename: string, content: string, disposition = `filename="${filename}"`) =>
  `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; ${disposition}\r\nContent-Type: text/plain\r\n\r\n${content}\r\n`;
const closing = `--${BOUNDARY}--\r\n`;

function multipartRequest(body: string, options: { tenant?: string; contentType?: string; path?: string } = {}): string {
  return (
    `POST ${options.path ?? '/api/documents'} HTTP/1.1\r\nHost: x\r\nx-tenant-id: ${options.tenant ?? 'uploads'}\r\n` +
    `Content-Type: ${options.contentType ?? `multipart/form-data; boundary=${BOUNDARY}`}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

describe('gateway uploads: limits before the body is read, malformed forms, unstorable text', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;

  beforeAll(async () => {
    schema = await createTestSchema('gwuploads');
    redis = createTestRedisPrefix('gwuploads');
    service = await startGateway({
      ...BEHIND_TRUSTED_PROXY,
      DATABASE_URL: schema.url,
      DATABASE_SCHEMA: schema.schema,
      REDIS_URL: redis.url,
      REDIS_PREFIX: redis.prefix,
      MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
      MAX_BATCH_FILES: '3',
      MAX_BATCH_BYTES: String(2 * MAX_UPLOAD_BYTES),
    });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const documentCount = async (tenant: string) =>
    ((await (await fetch(`${service.url}/api/documents`, { headers: { 'x-tenant-id': tenant } })).json()) as { total: number }).total;

  function errorOf(response: RawResponse, status: number, code: string): string {
    const body = JSON.parse(response.body) as { error: { code: string; message: string; correlationId: string } };
    expect({ status: response.status, code: body.error.code }).toEqual({ status, code });
    expect(body.error.correlationId).toBe(response.headers['x-correlation-id']);
    return body.error.message;
  }

  async function send(request: string): Promise<RawResponse> {
    const connection = await RawConnection.open(service.url);
    await connection.write(request);
    const response = await connection.response();
    connection.destroy();
    return response;
  }

  describe('size limits', () => {
    it('answers a 60 MB Content-Length with 413 before any of the body is sent, and closes the connection', async () => {
      const connection = await RawConnection.open(service.url);
      await connection.write(
        `POST /api/documents HTTP/1.1\r\nHost: x\r\nx-tenant-id: big\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${SIXTY_MB}\r\n\r\n`,
      );
      // Not one byte of the body has been written.
      const response = await connection.response(2000);
      expect(errorOf(response, 413, 'PAYLOAD_TOO_LARGE')).toBe(`the upload is larger than the configured limit (MAX_UPLOAD_BYTES = ${MAX_UPLOAD_BYTES} bytes)`);
      expect(response.headers.connection).toBe('close');
      await connection.serverClosed(2000);
      expect(await documentCount('big')).toBe(0);
    });

    it('answers a batch whose Content-Length passes MAX_BATCH_BYTES with 413 naming that limit', async () => {
      const response = await send(
        `POST /api/documents/batch HTTP/1.1\r\nHost: x\r\nx-tenant-id: big\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: ${SIXTY_MB}\r\n\r\n`,
      );
      expect(errorOf(response, 413, 'PAYLOAD_TOO_LARGE')).toContain('MAX_BATCH_BYTES');
    });

    it('accepts a file of exactly MAX_UPLOAD_BYTES (framing and fields fit the allowance)', async () => {
      const body = field('tags', 'a,b') + field('folder', '/x') + filePart('exact.txt', 'x'.repeat(MAX_UPLOAD_BYTES)) + closing;
      expect((await send(multipartRequest(body, { tenant: 'exact' }))).status).toBe(202);
    });

    it('stops reading a chunked upload the moment its file passes the limit: 413, then the connection is closed', async () => {
      const connection = await RawConnection.open(service.url);
      await connection.write(
        `POST /api/documents HTTP/1.1\r\nHost: x\r\nx-tenant-id: chunked\r\nContent-Type: multipart/form-data; boundary=${BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      const head = `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="endless.txt"\r\nContent-Type: text/plain\r\n\r\n`;
      await connection.write(`${Buffer.byteLength(head).toString(16)}\r\n${head}\r\n`);
      // The client would send 60 MB; it goes on until the server answers and hangs up.
      const slice = 'y'.repeat(64 * 1024);
      let sent = 0;
      while (sent < SIXTY_MB && !connection.closed) {
        await connection.write(`${slice.length.toString(16)}\r\n${slice}\r\n`);
        sent += slice.length;
      }
      const response = await connection.response(3000);
      expect(errorOf(response, 413, 'PAYLOAD_TOO_LARGE')).toContain('MAX_UPLOAD_BYTES');
      expect(response.headers.connection).toBe('close');
      await connection.serverClosed(3000);
      // Past the limit, only what was already in flight (socket buffers) got through.
      expect(sent).toBeLessThan(16 * 1024 * 1024);
      expect(await documentCount('chunked')).toBe(0);
    });

    it('answers a batch whose files together pass MAX_BATCH_BYTES with 413 while reading, storing none', async () => {
      const third = 'z'.repeat(MAX_UPLOAD_BYTES - 10);
      const body = filePart('one.txt', `1${third}`) + filePart('two.txt', `2${third}`) + filePart('three.txt', `3${third}`) + closing;
      const response = await send(multipartRequest(body, { tenant: 'batch-total', path: '/api/documents/batch' }));
      expect(errorOf(response, 413, 'PAYLOAD_TOO_LARGE')).toBe(`the files of one request may total at most ${2 * MAX_UPLOAD_BYTES} bytes (MAX_BATCH_BYTES)`);
      expect(await documentCount('batch-total')).toBe(0);
    });
  });

  describe('malformed multipart', () => {
    it.each([
      ['no boundary', 'multipart/form-data', 'the multipart/form-data content type has no (valid) boundary parameter'],
      ['another media type', 'application/octet-stream', 'expected a multipart/form-data body with a "file" part'],
      ['plain text', 'text/plain', 'expected a multipart/form-data body with a "file" part'],
    ])('refuses a content type with %s with 400 before reading the body', async (_, contentType, message) => {
      const response = await send(multipartRequest(filePart('a.txt', 'hello') + closing, { contentType }));
      expect(errorOf(response, 400, 'INVALID_PAYLOAD')).toBe(message);
    });

    it.each([
      ['inside the part headers', (filePart('a.txt', 'hello') + closing).slice(0, 60)],
      ['inside the file content', filePart('a.txt', 'hello').slice(0, -4)],
      ['after a whole part, without the closing boundary', filePart('a.txt', 'hello')],
    ])('refuses a body cut off %s with 400', async (_, body) => {
      const response = await send(multipartRequest(body, { tenant: 'cut' }));
      expect(errorOf(response, 400, 'INVALID_PAYLOAD')).toBe('the multipart body is cut off: it ends before its closing boundary');
      expect(await documentCount('cut')).toBe(0);
    });

    const manyFields = Array.from({ length: 25 }, (_, index) => field('note', `n${index}`)).join('');
    it.each([
      ['before the file', manyFields + filePart('a.txt', 'hello') + closing],
      ['after the file', filePart('a.txt', 'hello') + manyFields + closing],
      ['around the file', manyFields.slice(0, manyFields.length / 2) + filePart('a.txt', 'hello') + manyFields + closing],
    ])('refuses more than 20 fields %s with 400', async (_, body) => {
      const response = await send(multipartRequest(body, { tenant: 'fields' }));
      expect(errorOf(response, 400, 'INVALID_PAYLOAD')).toContain('too many fields (at most 20)');
      expect(await documentCount('fields')).toBe(0);
    });

    it('refuses a field longer than its limit instead of storing it cut short', async () => {
      const response = await send(multipartRequest(field('folder', `/${'f'.repeat(20_000)}`) + filePart('a.txt', 'hello') + closing, { tenant: 'fields' }));
      expect(errorOf(response, 400, 'INVALID_PAYLOAD')).toBe('folder: a form field may hold at most 16384 bytes');
    });

    it('refuses more files than the route takes with 400', async () => {
      const response = await send(multipartRequest(filePart('a.txt', 'one') + filePart('b.txt', 'two') + closing, { tenant: 'fields' }));
      expect(errorOf(response, 400, 'INVALID_PAYLOAD')).toBe('send one file per request to this endpoint');
      const batch = filePart('a.txt', 'a') + filePart('b.txt', 'b') + filePart('c.txt', 'c') + filePart('d.txt', 'd') + closing;
      const tooMany = await send(multipartRequest(batch, { tenant: 'fields', path: '/api/documents/batch' }));
      expect(errorOf(tooMany, 400, 'INVALID_PAYLOAD')).toBe('send at most 3 files per request');
    });
  });

  describe('unstorable text', () => {
    it.each([
      ['a NUL in the filename', filePart('a\u0000b.txt', 'hello'), 'filename: must not contain NUL characters (U+0000)'],
      ['a NUL in the filename (RFC 5987 form)', filePart('', 'hello', "filename*=UTF-8''a%00b.txt"), 'filename: must not contain NUL characters (U+0000)'],
      ['a control character in the filename', filePart('a\u0007b.txt', 'hello'), 'filename: must not contain control characters (found U+0007)'],
      ['a NUL in a tag', field('tags', 'hr,po\u0000licy') + filePart('a.txt', 'hello'), 'tags: must not contain NUL characters (U+0000)'],
      ['a NUL in a JSON tag array', field('tags', '["hr","x\\u0000"]') + filePart('a.txt', 'hello'), 'tags: must not contain NUL characters (U+0000)'],
      ['an escape character in a tag', field('tags', 'x\u001b[31m') + filePart('a.txt', 'hello'), 'tags: must not contain control characters (found U+001B)'],
      ['a NUL in the folder', field('folder', '/hr/\u0000') + filePart('a.txt', 'hello'), 'folder: must not contain NUL characters (U+0000)'],
    ])('refuses %s with 400 naming the field', async (_, parts, message) => {
      const response = await send(multipartRequest(parts + closing, { tenant: 'nul' }));
      expect(errorOf(response, 400, 'INVALID_PAYLOAD')).toBe(message);
      expect(await documentCount('nul')).toBe(0);
    });

    it('still takes any script, emoji and tabs in names', async () => {
      const response = await send(multipartRequest(field('tags', 'größe,大小,😀') + field('folder', '/Über\tuns') + filePart('naïve 😀.txt', 'hello') + closing, { tenant: 'unicode' }));
      expect(response.status).toBe(202);
      const { documentId } = JSON.parse(response.body) as { documentId: string };
      const document = (await (await fetch(`${service.url}/api/documents/${documentId}`, { headers: { 'x-tenant-id': 'unicode' } })).json()) as Record<string, unknown>;
      expect(document).toMatchObject({ filename: 'naïve 😀.txt', tags: ['größe', '大小', '😀'], folder: '/Über\tuns' });
    });

    const ask = (body: unknown) =>
      fetch(`${service.url}/api/query`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-tenant-id': 'unicode' }, body: JSON.stringify(body) });

    it.each([
      ['a NUL in the question', { question: 'vacation\u0000days' }, 'question: must not contain NUL characters (U+0000)'],
      ['a lone surrogate in the question', { question: 'vacation \ud800 days' }, 'question: must be valid Unicode text (it holds a lone UTF-16 surrogate)'],
      ['a NUL in a filter tag', { question: 'q', filters: { tags: ['ok', 'b\u0000'] } }, 'filters.tags.1: must not contain NUL characters (U+0000)'],
      ['a control character in the filter folder', { question: 'q', filters: { folder: '/a\u0001' } }, 'filters.folder: must not contain control characters (found U+0001)'],
    ])('refuses a query with %s with 400 naming the field', async (_, body, message) => {
      const response = await ask(body);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { code: string; message: string } }).error).toMatchObject({ code: 'INVALID_PAYLOAD', message });
    });
  });
});
