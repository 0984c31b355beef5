import { redactUrl } from '@quarry/config';
import { ensureDatabaseAndSchema } from '@quarry/persistence';
import Redis from 'ioredis';

export class DependencyUnreachableError extends Error {}

function reason(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code ?? message ?? String(error);
}

/** Connects once to Postgres (creating database and schema if missing); fails with one clear line. */
export async function checkPostgres(url: string, schema: string): Promise<void> {
  try {
    await ensureDatabaseAndSchema({ url, schema });
  } catch (error) {
    throw new DependencyUnreachableError(
      `cannot reach Postgres at ${redactUrl(url)} (${reason(error)}): start Postgres or set DATABASE_URL (see README, Configuration)`,
    );
  }
}

/** One PING with a short timeout and no retries; fails with one clear line. */
export async function checkRedis(url: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  // The socket error (ECONNREFUSED, ENOTFOUND …) says more than the "connection is closed" that follows it.
  let socketError: unknown;
  redis.on('error', (error) => {
    socketError ??= error;
  });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new DependencyUnreachableError(
      `cannot reach Redis at ${redactUrl(url)} (${reason(socketError ?? error)}): start Redis or set REDIS_URL (see README, Configuration)`,
    );
  } finally {
    redis.disconnect();
  }
}
