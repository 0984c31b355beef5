import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The Postgres every test run uses; each run gets a schema of its own inside it. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestSchema {
  url: string;
  schema: string;
  drop(): Promise<void>;
}

/** Creates an empty, uniquely named schema so parallel runs never see each other's rows. */
export async function createTestSchema(label = 'run'): Promise<TestSchema> {
  const schema = `t_${label.replace(/[^a-z0-9]/g, '').slice(0, 20)}_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  await withClient((client) => client.query(`CREATE SCHEMA "${schema}"`));
  return {
    url: TEST_DATABASE_URL,
    schema,
    drop: () => withClient((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)).then(() => undefined),
  };
}

async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
