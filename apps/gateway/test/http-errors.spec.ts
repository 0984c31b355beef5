import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import { JSON_BODY_LIMIT_BYTES } from '../src/http/gateway-http-options';
import { RawConnection, type RawResponse } from './raw-http';
import { BEHIND_TRUSTED_PROXY, startGateway } from './start-gateway';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Errors raised by Node's HTTP parser, by Fastify and by Nest's router, before any handler of ours
 * runs, sent over raw sockets (fetch refuses to send most of these requests).
 */
describe('gateway framework errors use the documented error shape (raw sockets)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;

  beforeAll(async () => {
    schema = await createTestSchema('gwerrors');
    redis = createTestRedisPrefix('gwerrors');
    service = await startGateway({ ...BEHIND_TRUSTED_PROXY, DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix });
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  async function exchange(request: string, options: { halfClose?: boolean } = {}): Promise<{ response: RawResponse; connection: RawConnection }> {
    const connection = await RawConnection.open(service.url);
    await connection.write(request);
    if (options.halfClose) connection.endSending();
    const response = await connection.response();
    return { response, connection };
  }

  /** Checks the documented shape and returns the error. */
  function documented(response: RawResponse, status: number, code: string): { code: string; message: string; correlationId: string } {
    expect(response.status).toBe(status);
    expect(response.headers['content-type']).toContain('application/json');
    const body = JSON.parse(response.body) as { error: { code: string; message: string; correlationId: string } };
    expect(Object.keys(body)).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'correlationId', 'message']);
    expect(body.error.code).toBe(code);
    expect(body.error.message.length).toBeGreaterThan(10);
    expect(body.error.correlationId).toMatch(UUID);
    expect(response.headers['x-correlation-id']).toBe(body.error.correlationId);
    return body.error;
  }

  it('answers headers past Node\'s limit with 431 and closes the connection', async () => {
    const { response, connection } = await exchange(`GET /api/documents HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(documented(response, 431, 'INVALID_PAYLOAD').message).toBe('the request line and headers are larger than 16384 bytes');
    await connection.serverClosed();
  });

  it('answers a URL past the header limit with 431, an overlong path parameter with 414', async () => {
    const long = await exchange(`GET /api/documents/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\n\r\n`);
    documented(long.response, 431, 'INVALID_PAYLOAD');
    const param = await exchange(`GET /api/jobs/${'a'.repeat(300)} HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\n\r\n`);
    expect(documented(param.response, 414, 'INVALID_PAYLOAD').message).toBe('a path segment of the URL is too long');
  });

  it('answers a URL with broken percent-encoding with 400', async () => {
    const { response } = await exchange('GET /api/documents/%zz HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\n\r\n');
    expect(documented(response, 400, 'INVALID_PAYLOAD').message).toContain('malformed');
  });

  it.each([
    ['a Content-Length that is not a number', 'Content-Length: abc\r\n', '{}'],
    ['two different Content-Lengths', 'Content-Length: 2\r\nContent-Length: 3\r\n', '{}'],
    ['Content-Length with Transfer-Encoding', 'Content-Length: 2\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'],
  ])('answers %s with 400 naming the header', async (_, headers, body) => {
    const { response, connection } = await exchange(`POST /api/query HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\nContent-Type: application/json\r\n${headers}\r\n${body}`);
    expect(documented(response, 400, 'INVALID_PAYLOAD').message).toMatch(/Content-Length|chunked/);
    await connection.serverClosed();
  });

  it('answers a body shorter than its Content-Length (the client stopped sending) with 400', async () => {
    const { response } = await exchange('POST /api/query HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"question":', {
      halfClose: true,
    });
    documented(response, 400, 'INVALID_PAYLOAD');
  });

  it('answers something that is not HTTP, and an unknown method, with 400', async () => {
    documented((await exchange('hello there\r\n\r\n')).response, 400, 'INVALID_PAYLOAD');
    documented((await exchange('FROB /api/query HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\n\r\n')).response, 400, 'INVALID_PAYLOAD');
  });

  it('answers invalid and empty JSON with 400 from the body parser', async () => {
    const invalid = await exchange('POST /api/query HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{"question": ');
    expect(documented(invalid.response, 400, 'INVALID_PAYLOAD').message).toContain('JSON');
    const empty = await exchange('POST /api/query HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n');
    documented(empty.response, 400, 'INVALID_PAYLOAD');
  });

  it('answers a JSON body past the body limit with 413 naming that limit (not MAX_UPLOAD_BYTES), before reading it', async () => {
    const { response, connection } = await exchange(
      `POST /api/query HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\nContent-Type: application/json\r\nContent-Length: ${JSON_BODY_LIMIT_BYTES + 1}\r\n\r\n{`,
    );
    const error = documented(response, 413, 'PAYLOAD_TOO_LARGE');
    expect(error.message).toBe(`the request body is larger than the limit of ${JSON_BODY_LIMIT_BYTES} bytes`);
    expect(response.headers.connection).toBe('close');
    await connection.serverClosed();
  });

  it('answers an unknown route, and a known path with a method it does not serve, with 404', async () => {
    documented((await exchange('GET /api/nowhere HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\n\r\n')).response, 404, 'NOT_FOUND');
    documented((await exchange('PATCH /api/documents HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\nContent-Length: 0\r\n\r\n')).response, 404, 'NOT_FOUND');
    documented((await exchange('PROPFIND /api/query HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\n\r\n')).response, 404, 'NOT_FOUND');
  });

  it('answers an unsupported media type on a JSON route with 415', async () => {
    const { response } = await exchange('POST /api/query HTTP/1.1\r\nHost: x\r\nx-tenant-id: errors\r\nContent-Type: application/x-thing\r\nContent-Length: 2\r\n\r\n{}');
    documented(response, 415, 'INVALID_PAYLOAD');
  });
});
