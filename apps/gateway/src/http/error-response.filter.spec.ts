import { type ArgumentsHost, BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError, endpointsFromUrls } from '@quarry/domain';
import { createLogger, runWithCorrelationId } from '@quarry/observability';
import { type ErrorBody, ErrorResponseFilter } from './error-response.filter';
import { INTERNAL_MESSAGE } from './public-error';

/** The part of a Fastify reply the filter uses, recording what it was told. */
class FakeReply {
  constructor(readonly request: Record<string, unknown>) {}

  statusCode: number | undefined;
  body: ErrorBody | undefined;
  readonly headers = new Map<string, string>();

  status(code: number): this {
    this.statusCode = code;
    return this;
  }

  send(body: ErrorBody): this {
    this.body = body;
    return this;
  }

  getHeader(name: string): string | undefined {
    return this.headers.get(name);
  }

  header(name: string, value: string): this {
    this.headers.set(name, value);
    return this;
  }
}

const EXPECTED_STATUS: Record<ErrorCode, number> = {
  INVALID_PAYLOAD: 400,
  UNKNOWN_JOB: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  QUOTA_EXCEEDED: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  STORAGE_QUOTA_EXCEEDED: 413,
  UNSUPPORTED_TYPE: 415,
  EMPTY_DOCUMENT: 422,
  CORRUPT_DOCUMENT: 422,
  PASSWORD_REQUIRED: 422,
  NO_EXTRACTABLE_TEXT: 422,
  RESOURCE_LIMIT: 422,
  PARSE_TIMEOUT: 422,
  CANCELLED: 409,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UPSTREAM_MODEL_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 503,
};

/** Codes the client sees as another code, or with another message. */
const PUBLIC_CODE: Partial<Record<ErrorCode, ErrorCode>> = { TIMEOUT: ErrorCode.ServiceUnavailable };
const RETRY_AFTER: Partial<Record<ErrorCode, string>> = { SERVICE_UNAVAILABLE: '5', TIMEOUT: '5', RATE_LIMITED: '10' };
const endpoints = endpointsFromUrls({ databaseUrl: 'postgres://postgres@db.internal:5433/quarry', redisUrl: 'redis://cache.internal:6390' });


describe('ErrorResponseFilter', () => {
  const logger = createLogger({ service: 'gateway-test', level: 'error', silent: true });
  let filter: ErrorResponseFilter;
  let logged: jest.SpyInstance;

  beforeEach(() => {
    logged = jest.spyOn(logger, 'error');
    filter = new ErrorResponseFilter(logger, endpoints);
  });

  afterEach(() => {
    logged.mockRestore();
    warned?.mockRestore();
  });
  let warned: jest.SpyInstance | undefined;

  function respond(exception: unknown, correlationHeader: string | null = 'corr-123', request: Record<string, unknown> = {}): FakeReply {
    const reply = new FakeReply(request);
    if (correlationHeader) reply.headers.set('x-correlation-id', correlationHeader);
    const host = { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => request }) } as unknown as ArgumentsHost;
    filter.catch(exception, host);
    return reply;
  }

  it('has a status for every error code', () => {
    expect(Object.keys(EXPECTED_STATUS).sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it.each(Object.entries(EXPECTED_STATUS).filter(([code]) => code !== ErrorCode.Internal))(
    'answers a DomainError %s with %i, its (public) code and its message',
    (code, status) => {
      const reply = respond(new DomainError(code as ErrorCode, `something about ${code}`));
      expect(reply.statusCode).toBe(status);
      expect(reply.body).toEqual({ error: { code: PUBLIC_CODE[code as ErrorCode] ?? code, message: `something about ${code}`, correlationId: 'corr-123' } });
      expect(reply.headers.get('retry-after')).toBe(RETRY_AFTER[code as ErrorCode]);
    },
  );

  it('answers a DomainError INTERNAL (perhaps relayed from another service) with the generic message, logging the real one', () => {
    const reply = respond(new DomainError(ErrorCode.Internal, 'connect ECONNREFUSED 10.0.0.7:5432 at pg-pool/index.js'));
    expect(reply.statusCode).toBe(500);
    expect(reply.body).toEqual({ error: { code: ErrorCode.Internal, message: INTERNAL_MESSAGE, correlationId: 'corr-123' } });
    expect(logged).toHaveBeenCalledWith('internal error', expect.objectContaining({ error: 'connect ECONNREFUSED 10.0.0.7:5432 at pg-pool/index.js', correlationId: 'corr-123' }));
  });

  it('answers a timed-out request as 503 SERVICE_UNAVAILABLE with Retry-After', () => {
    const reply = respond(new DomainError(ErrorCode.Timeout, 'the agent service did not answer within 60000 ms'));
    expect(reply.statusCode).toBe(503);
    expect(reply.body?.error).toMatchObject({ code: ErrorCode.ServiceUnavailable, message: 'the agent service did not answer within 60000 ms' });
    expect(reply.headers.get('retry-after')).toBe('5');
  });

  const socketError = (port: number) =>
    Object.assign(new Error(`connect ECONNREFUSED 10.0.0.7:${port}`), { code: 'ECONNREFUSED', errno: -111, syscall: 'connect', port });
  const driverError = (message: string, code: string) => Object.assign(new Error('QueryFailedError'), { driverError: Object.assign(new Error(message), { code }) });

  it.each([
    ['Postgres refusing connections', socketError(5433), 'the database (Postgres) is unavailable; retry shortly'],
    ['Postgres starting up', driverError('the database system is starting up', '57P03'), 'the database (Postgres) is unavailable; retry shortly'],
    ['a pg connection dying', new Error('Connection terminated unexpectedly'), 'the database (Postgres) is unavailable; retry shortly'],
    ['Redis refusing connections', socketError(6390), 'the queue broker (Redis) is unavailable; retry shortly'],
    ['ioredis with Redis down', new Error("Stream isn't writeable and enableOfflineQueue options is false"), 'the queue broker (Redis) is unavailable; retry shortly'],
  ])('answers an unknown error that says %s with 503 naming it, without driver text', (_, error, message) => {
    warned = jest.spyOn(logger, 'warn');
    const reply = respond(error);
    expect(reply.statusCode).toBe(503);
    expect(reply.body).toEqual({ error: { code: ErrorCode.ServiceUnavailable, message, correlationId: 'corr-123' } });
    expect(reply.headers.get('retry-after')).toBe('5');
    expect(JSON.stringify(reply.body)).not.toMatch(/ECONNREFUSED|10\.0\.0\.7|starting up|terminated|Stream/);
    expect(warned).toHaveBeenCalledWith('dependency unavailable', expect.objectContaining({ correlationId: 'corr-123' }));
    expect(logged).not.toHaveBeenCalled();
  });

  it('answers data the database refused (a NUL byte) with 400 INVALID_PAYLOAD, without driver text', () => {
    const reply = respond(driverError('invalid byte sequence for encoding "UTF8": 0x00', '22021'));
    expect(reply.statusCode).toBe(400);
    expect(reply.body?.error).toMatchObject({
      code: ErrorCode.InvalidPayload,
      message: 'the input cannot be stored: text holds a NUL character or bytes that are not valid UTF-8',
    });
    expect(reply.headers.get('retry-after')).toBeUndefined();
  });

  it('takes the correlation id of the current context when the reply has none', () => {
    const reply = runWithCorrelationId('from-context', () => respond(new DomainError(ErrorCode.NotFound, 'gone'), null));
    expect(reply.body?.error.correlationId).toBe('from-context');
  });

  it('gives the reply a fresh correlation id when the request never got one', () => {
    const reply = respond(new DomainError(ErrorCode.InvalidPayload, 'unparsable body'), null);
    const correlationId = reply.body?.error.correlationId;
    expect(correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(reply.headers.get('x-correlation-id')).toBe(correlationId);
  });

  it('answers an unknown error with 500 and a message that reveals nothing, logging the real one', () => {
    const reply = respond(new Error('password=hunter2 at db.internal:5432'));
    expect(reply.statusCode).toBe(500);
    expect(reply.body).toEqual({ error: { code: ErrorCode.Internal, message: INTERNAL_MESSAGE, correlationId: 'corr-123' } });
    expect(JSON.stringify(reply.body)).not.toContain('hunter2');
    expect(logged).toHaveBeenCalledTimes(1);
    const [line, meta] = logged.mock.calls[0] as [string, { error: string; stack: string }];
    expect(line).toBe('unhandled error');
    expect(meta.error).toBe('password=hunter2 at db.internal:5432');
    expect(meta.stack).toContain('error-response.filter.spec.ts');
  });

  it.each([['a string'], [null], [undefined], [42]])('answers a thrown non-error value (%p) with 500 too', (thrown) => {
    const reply = respond(thrown);
    expect(reply.statusCode).toBe(500);
    expect(reply.body?.error).toMatchObject({ code: ErrorCode.Internal, message: INTERNAL_MESSAGE });
  });

  it('answers the JSON body limit\'s 413 with PAYLOAD_TOO_LARGE naming that limit, not MAX_UPLOAD_BYTES', () => {
    // As Nest hands Fastify's FST_ERR_CTP_BODY_TOO_LARGE to the filter.
    const reply = respond(new HttpException('Request body is too large', 413), 'corr-123', { routeOptions: { bodyLimit: 1048576 } });
    expect(reply.statusCode).toBe(413);
    expect(reply.body?.error).toMatchObject({ code: ErrorCode.PayloadTooLarge, message: 'the request body is larger than the limit of 1048576 bytes' });
  });

  it('closes the connection after an error answered before the request body was read', () => {
    const unread = respond(new DomainError(ErrorCode.PayloadTooLarge, 'too big'), 'corr-123', { raw: { complete: false, headers: { 'content-length': '9000' } } });
    expect(unread.headers.get('connection')).toBe('close');
    const chunked = respond(new DomainError(ErrorCode.PayloadTooLarge, 'too big'), 'corr-123', { raw: { complete: false, headers: { 'transfer-encoding': 'chunked' } } });
    expect(chunked.headers.get('connection')).toBe('close');
    const read = respond(new DomainError(ErrorCode.InvalidPayload, 'bad'), 'corr-123', { raw: { complete: true, headers: { 'content-length': '9000' } } });
    expect(read.headers.get('connection')).toBeUndefined();
    const bodiless = respond(new DomainError(ErrorCode.InvalidPayload, 'bad'), 'corr-123', { raw: { complete: false, headers: {} } });
    expect(bodiless.headers.get('connection')).toBeUndefined();
  });

  it('answers Fastify\'s 413 (upload past the limit) with PAYLOAD_TOO_LARGE', () => {
    const tooLarge = Object.assign(new Error('request file too large'), { statusCode: 413, code: 'FST_REQ_FILE_TOO_LARGE' });
    const reply = respond(tooLarge);
    expect(reply.statusCode).toBe(413);
    expect(reply.body?.error).toMatchObject({ code: ErrorCode.PayloadTooLarge });
    expect(reply.body?.error.message).toContain('MAX_UPLOAD_BYTES');
    expect(logged).not.toHaveBeenCalled();
  });

  it('keeps the status of other Fastify client errors as INVALID_PAYLOAD', () => {
    const badJson = Object.assign(new Error('Body is not valid JSON but content-type is set to \'application/json\''), {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    });
    expect(respond(badJson)).toMatchObject({ statusCode: 400, body: { error: { code: ErrorCode.InvalidPayload, message: badJson.message } } });
    const mediaType = Object.assign(new Error('Unsupported Media Type: text/csv'), { statusCode: 415 });
    expect(respond(mediaType)).toMatchObject({ statusCode: 415, body: { error: { code: ErrorCode.InvalidPayload } } });
  });

  it('keeps the status of Nest HTTP exceptions', () => {
    expect(respond(new NotFoundException('Cannot GET /nowhere'))).toMatchObject({
      statusCode: 404,
      body: { error: { code: ErrorCode.NotFound, message: 'Cannot GET /nowhere' } },
    });
    expect(respond(new BadRequestException('bad'))).toMatchObject({ statusCode: 400, body: { error: { code: ErrorCode.InvalidPayload } } });
    expect(respond(new HttpException('upstream broke', 502))).toMatchObject({ statusCode: 502, body: { error: { code: ErrorCode.Internal, message: INTERNAL_MESSAGE } } });
    expect(respond(new HttpException('slow down', 429))).toMatchObject({ statusCode: 429, body: { error: { code: ErrorCode.RateLimited } } });
  });
});
