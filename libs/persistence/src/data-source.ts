import { DataSource } from 'typeorm';
import { ALL_ENTITIES } from './entities';
import { ALL_MIGRATIONS } from './migrations';

export interface DatabaseSettings {
  url: string;
  schema: string;
  poolMax: number;
  statementTimeoutMs: number;
  /** Shown in pg_stat_activity, so an operator can tell which service holds a connection. */
  applicationName: string;
}

/**
 * A TypeORM data source on a bounded pool. The schema is set through search_path, so migrations and
 * raw queries use unqualified names and a test run can live in a schema of its own.
 * Migrations only — never `synchronize`.
 */
export function createDataSource(settings: DatabaseSettings): DataSource {
  return new DataSource({
    type: 'postgres',
    url: settings.url,
    schema: settings.schema,
    entities: ALL_ENTITIES,
    migrations: ALL_MIGRATIONS,
    migrationsTableName: 'migrations',
    synchronize: false,
    logging: false,
    extra: {
      max: settings.poolMax,
      connectionTimeoutMillis: 5000,
      idleTimeoutMillis: 30_000,
      statement_timeout: settings.statementTimeoutMs,
      // The server enforces statement_timeout only while it can; a connection that went silent
      // (a network partition, a frozen server) is given up on by the client a little later.
      query_timeout: settings.statementTimeoutMs + 5000,
      application_name: settings.applicationName,
      options: `-c search_path=${settings.schema}`,
    },
  });
}
