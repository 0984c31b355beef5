import { ErrorCode } from '@quarry/contracts';
import { asOutage, endpointsFromUrls, outageError, outageOf } from './dependency-outage';
import { DomainError } from './domain-error';
import { unstorableDataError } from './unstorable-data';

const endpoints = endpointsFromUrls({ databaseUrl: 'postgres://postgres@127.0.0.1:5432/quarry', redisUrl: 'redis://127.0.0.1:6380' });
const socketError = (port: number) => Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:${port}`), { code: 'ECONNREFUSED', port });

describe('outageOf', () => {
  it('attributes a refused connection by the port it names', () => {
    expect(outageOf(socketError(5432), endpoints)).toBe('postgres');
    expect(outageOf(socketError(6380), endpoints)).toBe('redis');
    expect(outageOf(socketError(9999), endpoints)).toBe('unknown');
  });

  it('recognises what pg and TypeORM say when the server goes away', () => {
    expect(outageOf(new Error('Connection terminated unexpectedly'))).toBe('postgres');
    expect(outageOf(new Error('timeout exceeded when trying to connect'))).toBe('postgres');
    const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    expect(outageOf(terminated)).toBe('postgres');
    const startingUp = Object.assign(new Error('QueryFailedError'), { driverError: Object.assign(new Error('the database system is starting up'), { code: '57P03' }) });
    expect(outageOf(startingUp)).toBe('postgres');
  });

  it('recognises what ioredis says while Redis is down', () => {
    expect(outageOf(new Error("Stream isn't writeable and enableOfflineQueue options is false"))).toBe('redis');
    expect(outageOf(Object.assign(new Error('Reached the max retries per request limit (which is 1).'), { name: 'MaxRetriesPerRequestError' }))).toBe('redis');
    expect(outageOf(new Error('Connection is closed.'))).toBe('redis');
  });

  it('leaves bugs and bad input alone', () => {
    expect(outageOf(new TypeError('cannot read properties of undefined'))).toBeUndefined();
    expect(outageOf(Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }))).toBeUndefined();
    expect(outageOf('a string')).toBeUndefined();
    expect(outageOf(null)).toBeUndefined();
  });
});

describe('outage errors', () => {
  it('name what is down without the driver text', () => {
    const error = asOutage(socketError(5432), endpoints) as DomainError;
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe(ErrorCode.ServiceUnavailable);
    expect(error.message).toBe('the database (Postgres) is unavailable; retry shortly');
    expect(error.message).not.toContain('ECONNREFUSED');
    expect(error.permanent).toBe(false);
    expect(outageError('redis').message).toContain('Redis');
  });

  it('pass domain errors and other errors through unchanged', () => {
    const domain = new DomainError(ErrorCode.NotFound, 'gone');
    expect(asOutage(domain)).toBe(domain);
    const bug = new Error('bug');
    expect(asOutage(bug)).toBe(bug);
  });
});

describe('unstorableDataError', () => {
  it('turns a Postgres data exception into a permanent INVALID_PAYLOAD', () => {
    const nul = Object.assign(new Error('QueryFailedError'), { driverError: Object.assign(new Error('invalid byte sequence for encoding "UTF8": 0x00'), { code: '22021' }) });
    const error = unstorableDataError(nul);
    expect(error?.code).toBe(ErrorCode.InvalidPayload);
    expect(error?.permanent).toBe(true);
    expect(error?.message).toBe('the input cannot be stored: text holds a NUL character or bytes that are not valid UTF-8');
  });

  it('ignores other errors', () => {
    expect(unstorableDataError(Object.assign(new Error('x'), { code: '57P01' }))).toBeUndefined();
    expect(unstorableDataError(new Error('x'))).toBeUndefined();
  });
});
