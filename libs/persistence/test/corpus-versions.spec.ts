import { randomUUID } from 'node:crypto';
import { createTestSchema, type TestSchema, waitFor } from '@quarry/testing';
import { CorpusVersions, type DataSource, createDataSource, runMigrationsExclusively } from '../src';

/** The corpus version: bumped by every index change in its transaction, announced on commit. */
describe('corpus versions', () => {
  let schema: TestSchema;
  let other: TestSchema;
  let dataSource: DataSource;
  let otherSource: DataSource;
  let versions: CorpusVersions;

  const open = async (target: TestSchema) => {
    const source = await createDataSource({ url: target.url, schema: target.schema, poolMax: 3, statementTimeoutMs: 10_000, applicationName: 'corpus-version-test' }).initialize();
    await runMigrationsExclusively(source);
    return source;
  };

  beforeAll(async () => {
    schema = await createTestSchema('corpusver');
    other = await createTestSchema('corpusother');
    dataSource = await open(schema);
    otherSource = await open(other);
    for (const source of [dataSource, otherSource]) await source.query(`INSERT INTO tenants (id, name) VALUES ('acme', 'acme'), ('globex', 'globex')`);
    versions = new CorpusVersions({ databaseUrl: schema.url, schema: schema.schema, reconnectDelayMs: 100 });
    await versions.start();
  });

  afterAll(async () => {
    await versions?.close();
    await dataSource?.destroy();
    await otherSource?.destroy();
    await schema?.drop();
    await other?.drop();
  });

  const change = (source: DataSource, tenantId: string, kind: 'upsert' | 'delete' = 'upsert') =>
    source.query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ($1, $2, $3)`, [tenantId, randomUUID(), kind]);
  const stored = async (tenantId: string) =>
    (await dataSource.query<Array<{ corpus_version: string }>>('SELECT corpus_version FROM tenants WHERE id = $1', [tenantId]))[0].corpus_version;

  it('bumps the tenant\'s version for every change to its index, and no other tenant\'s', async () => {
    const [acme, globex] = [await stored('acme'), await stored('globex')];
    await change(dataSource, 'acme');
    await dataSource.query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ('acme', $1, 'upsert'), ('acme', $2, 'delete')`, [randomUUID(), randomUUID()]);
    expect(BigInt(await stored('acme'))).toBe(BigInt(acme) + 3n);
    expect(await stored('globex')).toBe(globex);
  });

  it('does not hold other index changes of the tenant back while a transaction is open (the bump waits for the commit)', async () => {
    const held = dataSource.createQueryRunner();
    await held.connect();
    try {
      await held.startTransaction();
      await held.query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ('acme', $1, 'delete')`, [randomUUID()]);
      const before = BigInt(await stored('acme'));
      // Would wait for the held transaction if the bump locked the tenant's row at the change.
      await dataSource.query('SET LOCAL lock_timeout = 2000');
      await change(dataSource, 'acme');
      expect(BigInt(await stored('acme'))).toBe(before + 1n);
      await held.commitTransaction();
      expect(BigInt(await stored('acme'))).toBe(before + 2n);
    } finally {
      await held.release();
    }
  });

  it('does not bump for a change that is rolled back', async () => {
    const before = await stored('acme');
    await expect(
      dataSource.transaction(async (manager) => {
        await manager.query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ('acme', $1, 'upsert')`, [randomUUID()]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await stored('acme')).toBe(before);
  });

  it('knows a new version as soon as it is committed, without asking Postgres again', async () => {
    expect(versions.isListening).toBe(true);
    const before = await versions.current('acme');
    const reads = jest.spyOn(versions as unknown as { read: (tenant: string) => Promise<bigint> }, 'read');
    expect(await versions.current('acme')).toBe(before);
    expect(reads).not.toHaveBeenCalled();
    await change(dataSource, 'acme');
    await waitFor(async () => (await versions.current('acme')) === (BigInt(before) + 1n).toString(), { timeoutMs: 2000, intervalMs: 5, description: 'the announcement' });
    expect(reads).not.toHaveBeenCalled();
    reads.mockRestore();
  });

  it('answers 0 for a tenant without documents, and ignores announcements from another schema', async () => {
    expect(await versions.current('nobody-yet')).toBe('0');
    const globex = await versions.current('globex');
    await change(otherSource, 'globex');
    await change(otherSource, 'globex');
    // An announcement of this schema after the other's: once it is seen, the other's were ignored.
    await change(dataSource, 'acme');
    const acme = await stored('acme');
    await waitFor(async () => (await versions.current('acme')) === acme, { timeoutMs: 2000, intervalMs: 5, description: 'this schema\'s announcement' });
    expect(await versions.current('globex')).toBe(globex);
  });

  it('asks Postgres on every call while it cannot listen, and listens again by itself', async () => {
    await versions.current('acme');
    const states: boolean[] = [];
    const applicationName = `corpus-versions-${schema.schema}`.slice(0, 60);
    const watched = new CorpusVersions({ databaseUrl: schema.url, schema: schema.schema, reconnectDelayMs: 300, applicationName, onStateChange: (listening) => states.push(listening) });
    await watched.start();
    try {
      await watched.current('acme');
      await dataSource.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'`, [applicationName]);
      await waitFor(() => Promise.resolve(!watched.isListening), { timeoutMs: 2000, intervalMs: 5, description: 'the listener to notice' });
      // Not listening: a change made now is read from Postgres at once, not from memory.
      await change(dataSource, 'acme');
      expect(await watched.current('acme')).toBe(await stored('acme'));
      await waitFor(() => Promise.resolve(watched.isListening), { timeoutMs: 5000, intervalMs: 20, description: 'listening again' });
      await change(dataSource, 'acme');
      const latest = await stored('acme');
      await waitFor(async () => (await watched.current('acme')) === latest, { timeoutMs: 2000, intervalMs: 5, description: 'announcements after reconnecting' });
      expect(states).toEqual([true, false, true]);
    } finally {
      await watched.close();
    }
  });

  it('asks Postgres again after forget, even while listening (a change seen before its announcement)', async () => {
    const before = await versions.current('acme');
    // A bump that sends no announcement stands for one whose announcement has not arrived yet.
    await dataSource.query(`UPDATE tenants SET corpus_version = corpus_version + 5 WHERE id = 'acme'`);
    expect(await versions.current('acme')).toBe(before);
    versions.forget('acme');
    expect(await versions.current('acme')).toBe((BigInt(before) + 5n).toString());
  });
});
