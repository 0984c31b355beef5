import { ErrorCode } from '@quarry/contracts';
import { DomainError } from './domain-error';

/** A backing service a Quarry process depends on. */
export type Dependency = 'postgres' | 'redis';

/** Where the dependencies listen, so an ambiguous socket error ("ECONNREFUSED :5432") names the right one. */
export interface DependencyEndpoints {
  postgres?: { host: string; port: number };
  redis?: { host: string; port: number };
}

const WHAT: Record<Dependency | 'unknown', string> = {
  postgres: 'the database (Postgres)',
  redis: 'the queue broker (Redis)',
  unknown: 'a backing service',
};

/** Socket-level failures: the peer is down, restarting or unreachable. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

/**
 * Postgres SQLSTATEs that mean "the server is not serving right now", not "your statement is
 * wrong": class 08 (connection exception), 57P01-57P03 (shut down, crashed, starting up), 53300
 * (too many connections), 40001/40P01 are not here (those are retried by the caller's logic).
 */
function isPostgresOutageState(code: string): boolean {
  return code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300';
}

// What pg, pg-pool and TypeORM say when a connection dies or cannot be had.
const POSTGRES_MESSAGES = [
  /^Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error and is not queryable/i,
  /Cannot use a pool after calling end on the pool/i,
  /the database system is (starting up|shutting down|in recovery mode)/i,
];

// What ioredis and BullMQ say when Redis is down or the connection is being re-established.
const REDIS_MESSAGES = [
  /Stream isn't writeable/i,
  /Reached the max retries per request limit/i,
  /^Connection is closed\.?$/i,
  /Command timed out/i,
  /LOADING Redis is loading the dataset in memory/i,
  /READONLY You can't write against a read only replica/i,
];

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  port?: unknown;
  driverError?: unknown;
  cause?: unknown;
}

/**
 * Which dependency an error says is unavailable, or undefined when the error is something else
 * (a bug, bad input). Recognises pg / pg-pool / TypeORM and ioredis / BullMQ failures by code and
 * message; a bare socket error is attributed by the port it names.
 */
export function outageOf(error: unknown, endpoints: DependencyEndpoints = {}): Dependency | 'unknown' | undefined {
  for (let current: unknown = error, depth = 0; current && typeof current === 'object' && depth < 4; depth++) {
    const shape = current as ErrorShape;
    const code = typeof shape.code === 'string' ? shape.code : undefined;
    const message = typeof shape.message === 'string' ? shape.message : '';
    const name = typeof shape.name === 'string' ? shape.name : '';
    if (name === 'MaxRetriesPerRequestError' || REDIS_MESSAGES.some((pattern) => pattern.test(message))) return 'redis';
    if (code && /^[0-9A-Z]{5}$/.test(code) && isPostgresOutageState(code)) return 'postgres';
    if (POSTGRES_MESSAGES.some((pattern) => pattern.test(message))) return 'postgres';
    if (code && SOCKET_CODES.has(code)) {
      const port = typeof shape.port === 'number' ? shape.port : Number(/:(\d+)\s*$/.exec(message)?.[1]);
      if (endpoints.postgres && port === endpoints.postgres.port) return 'postgres';
      if (endpoints.redis && port === endpoints.redis.port) return 'redis';
      return 'unknown';
    }
    // TypeORM keeps the driver's error; other wrappers use `cause`.
    current = shape.driverError ?? shape.cause;
  }
  return undefined;
}

/** The user-facing 503 for an outage: names what is down, never the driver's text. */
export function outageError(dependency: Dependency | 'unknown'): DomainError {
  return new DomainError(ErrorCode.ServiceUnavailable, `${WHAT[dependency]} is unavailable; retry shortly`, { dependency });
}

/** Turns a dependency failure into SERVICE_UNAVAILABLE; anything else is returned unchanged. */
export function asOutage(error: unknown, endpoints?: DependencyEndpoints): unknown {
  if (error instanceof DomainError) return error;
  const dependency = outageOf(error, endpoints);
  return dependency ? outageError(dependency) : error;
}

/** Endpoints from the services' connection URLs (unparsable URLs are simply left out). */
export function endpointsFromUrls(urls: { databaseUrl?: string; redisUrl?: string }): DependencyEndpoints {
  const parse = (url: string | undefined, fallbackPort: number) => {
    if (!url) return undefined;
    try {
      const parsed = new URL(url);
      return { host: parsed.hostname, port: parsed.port ? Number(parsed.port) : fallbackPort };
    } catch {
      return undefined;
    }
  };
  return { postgres: parse(urls.databaseUrl, 5432), redis: parse(urls.redisUrl, 6379) };
}
