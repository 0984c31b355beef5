import { type ArgumentsHost, BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { createLogger, runWithCorrelationId } from '@quarry/observability';
import { type ErrorBody, ErrorResponseFilter } from './error-response.filter';

/** The part of a Fastify reply the filter uses, recording what it was told. */
class FakeReply {
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
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_TYPE: 415,
  EMPTY_DOCUMENT: 422,
  CORRUPT_DOCUMENT: 422,
  PASSWORD_REQUIRED: 422,
  NO_EXTRACTABLE_TEXT: 422,
  RESOURCE_LIMIT: 422,
  PARSE_TIMEOUT: 422,
  CANCELLED: 409,
  CONFLICT: 409,
  INTERNAL: 500,
  UPSTREAM_MODEL_ERROR: 502,
  SERVICE_UNAVAILABLE: 503,
  TIMEOUT: 504,
};

const INTERNAL_MESSAGE = 'internal error; the correlation id identifies it in the logs';

describe('ErrorResponseFilter', () => {
  const logger = createLogger({ service: 'gateway-test', level: 'error', silent: true });
  let filter: ErrorResponseFilter;
  let logged: jest.SpyInstance;

  beforeEach(() => {
    logged = jest.spyOn(logger, 'error');
    filter = new ErrorResponseFilter(logger);
  });

  afterEach(() => {
    logged.mockRestore();
  });

  function respond(exception: unknown, correlationHeader: string | null = 'corr-123'): FakeReply {
    const reply = new FakeReply();
    if (correlationHeader) reply.headers.set('x-correlation-id', correlationHeader);
    const host = { switchToHttp: () => ({ getResponse: () => reply, getRequest: () => ({}) }) } as unknown as ArgumentsHost;
    filter.catch(exception, host);
    return reply;
  }

  it('has a status for every error code', () => {
    expect(Object.keys(EXPECTED_STATUS).sort()).toEqual(Object.values(ErrorCode).sort());
  });

  it.each(Object.entries(EXPECTED_STATUS))('answers a DomainError %s with %i, its code and its message', (code, status) => {
    const reply = respond(new DomainError(code as ErrorCode, `something about ${code}`));
    expect(reply.statusCode).toBe(status);
    expect(reply.body).toEqual({ error: { code, message: `something about ${code}`, correlationId: 'corr-123' } });
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
    expect(respond(new HttpException('upstream broke', 502))).toMatchObject({ statusCode: 502, body: { error: { code: ErrorCode.Internal } } });
  });
});
