import { ErrorCode } from '@quarry/contracts';
import { displayUrl, toDomainError } from './qdrant-errors';

const context = { operation: 'query collection c', url: 'http://qdrant:6333', apiKey: 's3cret-key' };

function apiError(status: number, data: unknown): Error {
  return Object.assign(new Error('Bad'), { status, data });
}

describe('toDomainError', () => {
  it('maps an unreachable server to SERVICE_UNAVAILABLE with the URL', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    const error = toDomainError(refused, context);
    expect(error.code).toBe(ErrorCode.ServiceUnavailable);
    expect(error.message).toBe('Qdrant at http://qdrant:6333 is unreachable (ECONNREFUSED) during query collection c');
  });

  it('recognises a failed fetch from another realm by its shape and names the cause', () => {
    // Node's built-in fetch throws its own realm's TypeError: `instanceof` fails under jest.
    const foreign = { name: 'TypeError', message: 'fetch failed', cause: { name: 'Error', message: 'bad port' } };
    const error = toDomainError(foreign, context);
    expect(error.code).toBe(ErrorCode.ServiceUnavailable);
    expect(error.message).toBe('Qdrant at http://qdrant:6333 is unreachable (bad port) during query collection c');
  });

  it('maps HTTP statuses by whether a retry can help', () => {
    expect(toDomainError(apiError(503, { status: { error: 'overloaded' } }), context).code).toBe(ErrorCode.ServiceUnavailable);
    expect(toDomainError(apiError(429, ''), context).code).toBe(ErrorCode.ServiceUnavailable);
    expect(toDomainError(apiError(401, 'Invalid api-key'), context).message).toContain('check QDRANT_API_KEY');
    const rejected = toDomainError(apiError(400, { status: { error: 'Wrong input: Vector dimension error' } }), context);
    expect(rejected.code).toBe(ErrorCode.Internal);
    expect(rejected.message).toBe('Qdrant at http://qdrant:6333 rejected query collection c (HTTP 400): Wrong input: Vector dimension error');
  });

  it('maps the client deadline to TIMEOUT', () => {
    const timeout = Object.assign(new Error('aborted'), { name: 'QdrantClientTimeoutError' });
    expect(toDomainError(timeout, context).code).toBe(ErrorCode.Timeout);
  });

  it('never repeats the API key, even when the server echoes it', () => {
    const echoed = toDomainError(apiError(400, { status: { error: 'bad key s3cret-key here' } }), context);
    const other = toDomainError(new Error('header api-key: s3cret-key'), context);
    for (const error of [echoed, other]) {
      expect(error.message).not.toContain('s3cret-key');
      expect(JSON.stringify(error.details)).not.toContain('s3cret-key');
    }
  });
});

describe('displayUrl', () => {
  it('drops user info, query and trailing slashes', () => {
    expect(displayUrl('https://user:pw@qdrant.example.com:6333/proxy/?api-key=x')).toBe('https://qdrant.example.com:6333/proxy');
    expect(displayUrl('http://localhost:6333/')).toBe('http://localhost:6333');
    expect(displayUrl('not a url')).toBe('<invalid QDRANT_URL>');
  });
});
