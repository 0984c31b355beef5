import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import type { DatabaseSettings } from './data-source';

// Any fixed 64-bit key works; every Quarry process uses this one to take turns migrating.
const MIGRATION_LOCK_KEY = 7_104_215_551;

/**
 * Makes sure the database and schema exist. On a developer machine `npm start` then needs nothing
 * but a running Postgres; where the role may not create databases, the error says what to do.
 */
export async function ensureDatabaseAndSchema(settings: Pick<DatabaseSettings, 'url' | 'schema'>): Promise<void> {
  const target = new URL(settings.url);
  const database = decodeURIComponent(target.pathname.slice(1)) || 'postgres';
  const connect = async () => {
    const client = new Client({ connectionString: settings.url, connectionTimeoutMillis: 5000 });
    await client.connect();
    return client;
  };
  let client: Client;
  try {
    client = await connect();
  } catch (error) {
    // 3D000: the database does not exist yet.
    if ((error as { code?: string }).code !== '3D000') throw error;
    await createDatabase(settings.url, database);
    client = await connect();
  }
  try {
    await client.query(`CREATE SCHEMA IF NOT EXISTS "${settings.schema}"`);
  } catch (error) {
    // Two services creating the schema at the same instant: the loser sees a unique violation.
    if (!isAlreadyExists(error)) throw error;
  } finally {
    await client.end();
  }
}

async function createDatabase(url: string, database: string): Promise<void> {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`);
  } catch (error) {
    // Another service created it at the same moment: that is fine.
    if (!isAlreadyExists(error)) throw error;
  } finally {
    await client.end();
  }
}

/**
 * Runs pending migrations while holding a Postgres advisory lock, so five services (or twenty
 * replicas) booting at once migrate exactly once and the rest wait, then find nothing to do.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<string[]> {
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    return applied.map((migration) => migration.name);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}

function isAlreadyExists(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === '42P04' || code === '42P06' || code === '23505';
}
