import { createHash } from 'node:crypto';
import { type DataSource, DocumentRepository, QueryLogRepository, createDataSource, ensureDatabaseAndSchema, runMigrationsExclusively } from '@quarry/persistence';
import { type TestSchema, createTestSchema } from '@quarry/testing';
import { DatabaseTool, createDatabaseTool } from '../src/tools/database/database-tool';
import { ToolRegistry } from '../src/tools/tool-registry';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The database tool on real Postgres with two tenants' documents and query log: acme's SQL never sees globex. */
describe('database tool (real Postgres)', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  let registry: ToolRegistry;
  const failures: unknown[] = [];
  const acmeDocuments: string[] = [];
  const globexDocuments: string[] = [];

  beforeAll(async () => {
    schema = await createTestSchema('dbtool');
    const settings = { url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'quarry-test' };
    await ensureDatabaseAndSchema(settings);
    dataSource = await createDataSource(settings).initialize();
    await runMigrationsExclusively(dataSource);
    const documents = new DocumentRepository(dataSource);
    const log = new QueryLogRepository(dataSource);
    const seed = async (tenantId: string, names: string[], into: string[]) => {
      for (const [index, filename] of names.entries()) {
        const stored = await documents.createWithContent(
          { tenantId, filename, mediaType: filename.endsWith('.pdf') ? 'application/pdf' : 'text/plain', sha256: sha(`${tenantId}${filename}`), tags: [tenantId, `t${index}`], folder: `/${tenantId}` },
          Buffer.from(`${tenantId}:${filename}`),
        );
        into.push(stored.id);
        await log.record({ tenantId, question: `${tenantId} question ${index}`, hitCount: index, citationCount: 1, generator: 'local', retrievalMs: 1, generationMs: 2, totalMs: 3 + index, correlationId: null });
      }
    };
    await seed('acme', ['a-report.pdf', 'a-notes.txt', 'a-plan.pdf'], acmeDocuments);
    await seed('globex', ['g-secret.pdf', 'g-payroll.txt'], globexDocuments);
    registry = new ToolRegistry([createDatabaseTool(dataSource)], undefined, (_tool, error) => failures.push(error));
  }, 60_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await schema?.drop();
  });

  afterEach(() => {
    expect(failures).toEqual([]);
  });

  const ask = (sql: string, tenantId = 'acme', tools = registry) => tools.call('database', { sql }, { tenantId, signal: new AbortController().signal });

  /** Every row of a result as JSON text, to look for another tenant's values anywhere in it. */
  const text = (output: unknown) => JSON.stringify(output);
  const leaksGlobex = (output: unknown) => /globex|g-secret|g-payroll/.test(text(output)) || globexDocuments.some((id) => text(output).includes(id));

  it('answers a SELECT with columns, JSON-safe rows and counts as numbers', async () => {
    const result = await ask("SELECT filename, media_type, tags, created_at, size_bytes FROM documents WHERE media_type = 'application/pdf' ORDER BY filename");
    expect(result.outcome).toBe('ok');
    expect(result.output).toEqual({
      columns: ['filename', 'media_type', 'tags', 'created_at', 'size_bytes'],
      rows: [
        { filename: 'a-plan.pdf', media_type: 'application/pdf', tags: ['acme', 't2'], created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) as unknown, size_bytes: 15 },
        { filename: 'a-report.pdf', media_type: 'application/pdf', tags: ['acme', 't0'], created_at: expect.stringMatching(/Z$/) as unknown, size_bytes: 17 },
      ],
      rowCount: 2,
      truncated: false,
    });
    const counted = await ask('SELECT count(*), sum(total_ms)::numeric AS total, avg(hit_count) AS hits, max(created_at)::date AS day FROM queries');
    expect(counted.output).toMatchObject({ columns: ['count', 'total', 'hits', 'day'], rows: [{ count: 3, total: 12, hits: 1, day: expect.stringMatching(/^\d{4}-\d\d-\d\d$/) as unknown }] });
    expect(counted.summary).toMatch(/^1 row × 4 columns: count = 3/);
  });

  it.each([
    ['SELECT * FROM documents'],
    ['SELECT * FROM queries'],
    ['SELECT * FROM documents OR 1=1'.replace('OR', 'WHERE true OR')],
    ["SELECT * FROM documents WHERE filename = 'g-secret.pdf' OR 1=1"],
    ['SELECT filename FROM documents UNION SELECT question FROM queries UNION SELECT filename FROM (SELECT * FROM documents) d'],
    ['SELECT d.filename, q.question FROM documents d CROSS JOIN queries q'],
    ['SELECT * FROM documents WHERE id IN (SELECT id FROM documents) AND EXISTS (SELECT 1 FROM queries)'],
    ['WITH documents AS (SELECT * FROM documents) SELECT * FROM documents'],
    ['WITH RECURSIVE r AS (SELECT id, filename FROM documents UNION SELECT id, filename FROM r) SELECT * FROM r'],
    ['SELECT (SELECT string_agg(filename, \',\') FROM documents) AS all_files'],
  ])('returns only the caller\'s rows for %s', async (sql) => {
    const result = await ask(sql);
    expect(result.outcome).toBe('ok');
    expect((result.output as { rowCount: number }).rowCount).toBeGreaterThan(0);
    expect(text(result.output)).toMatch(/acme|a-report/);
    expect(leaksGlobex(result.output)).toBe(false);
    // The same SQL for globex sees globex's rows and none of acme's.
    const other = await ask(sql, 'globex');
    expect(text(other.output)).not.toMatch(/acme|a-report|a-notes|a-plan/);
  });

  it('asking for another tenant by its id or tenant column finds nothing of it', async () => {
    const byId = await ask(`SELECT * FROM documents WHERE id = '${globexDocuments[0]}'`);
    expect(byId.output).toMatchObject({ rowCount: 0, truncated: false });
    expect((byId.output as { columns: string[] }).columns).toContain('filename');
    // The tenant column is not part of the view: the query is refused, naming the column.
    const byTenant = await ask("SELECT * FROM documents WHERE tenant_id = 'globex'");
    expect(byTenant).toMatchObject({ outcome: 'refused', summary: expect.stringMatching(/column "tenant_id" does not exist/) as unknown });
    expect(byTenant.summary).not.toMatch(/\$1|WITH|result/);
  });

  it.each([
    ["UPDATE documents SET status = 'failed'"],
    ['DROP TABLE documents'],
    ['DELETE FROM documents'],
    ["INSERT INTO queries (question) VALUES ('x')"],
    ['SELECT 1; DROP TABLE documents'],
    ['SELECT 1 -- harmless\n; DELETE FROM documents'],
    ['SELECT pg_sleep(10)'],
    ["SELECT set_config('transaction_read_only', 'off', true)"],
    ['SELECT * FROM public.documents'],
    [`SELECT * FROM documents_schema_placeholder.documents`],
    ['SELECT * FROM api_keys'],
    ['SELECT * FROM pg_catalog.pg_tables'],
    ['WITH x AS (DELETE FROM documents RETURNING *) SELECT * FROM x'],
    ['SELECT * FROM documents FOR UPDATE'],
    ['SELECT * INTO t FROM documents'],
    ['SELECT * FROM documents WHERE id = $1'],
  ])('refuses %s and changes nothing', async (raw) => {
    const sql = raw.replace('documents_schema_placeholder', schema.schema);
    const result = await ask(sql);
    expect(result.outcome).toBe('refused');
    const [{ count }] = await dataSource.query<Array<{ count: string }>>('SELECT count(*)::text AS count FROM documents');
    expect(Number(count)).toBe(5);
    const tables = await dataSource.query<unknown[]>("SELECT 1 FROM information_schema.tables WHERE table_schema = $1 AND table_name = 't'", [schema.schema]);
    expect(tables).toEqual([]);
  });

  it('a nested comment holding a DELETE is a comment for the server too: the rows stay', async () => {
    const result = await ask('SELECT count(*) AS n FROM documents /* nested /* */ ; DELETE FROM documents; */');
    expect(result.output).toMatchObject({ rows: [{ n: 3 }] });
    const [{ count }] = await dataSource.query<Array<{ count: string }>>('SELECT count(*)::text AS count FROM documents');
    expect(Number(count)).toBe(5);
  });

  it('cuts results off at the row cap and says so', async () => {
    const capped = new ToolRegistry([new DatabaseTool(dataSource, { rowCap: 2 })]);
    const result = await ask('SELECT filename FROM documents ORDER BY filename', 'acme', capped);
    expect(result.output).toEqual({ columns: ['filename'], rows: [{ filename: 'a-notes.txt' }, { filename: 'a-plan.pdf' }], rowCount: 2, truncated: true });
    expect(result.summary).toBe('2 rows × 1 column (cut off at 2)');
    const exact = await ask('SELECT filename FROM documents WHERE filename <> \'a-plan.pdf\'', 'acme', capped);
    expect(exact.output).toMatchObject({ rowCount: 2, truncated: false });
  });

  it('stops a query at the statement timeout with a readable refusal', async () => {
    const slow = new ToolRegistry([new DatabaseTool(dataSource, { statementTimeoutMs: 100 })]);
    const started = performance.now();
    const result = await ask('SELECT count(*) FROM queries a, queries b, queries c, documents d, documents e, queries f, queries g, queries h, queries i, queries j, queries k, queries l, queries m, queries n, queries o, queries p', 'acme', slow);
    expect(result).toMatchObject({ outcome: 'refused', summary: 'the query ran longer than 100 ms: aggregate, filter or add a LIMIT' });
    expect(performance.now() - started).toBeLessThan(3000);
    // The connection went back to the pool in a usable state.
    expect((await ask('SELECT count(*) AS n FROM documents', 'acme', slow)).output).toMatchObject({ rows: [{ n: 3 }] });
  });

  it('turns the query\'s own errors into refusals that name the problem', async () => {
    expect((await ask('SELECT nope FROM documents')).summary).toMatch(/column "nope" does not exist/);
    expect((await ask('SELECT 1 / 0')).summary).toMatch(/division by zero/);
    expect((await ask("SELECT 'abc'::int")).summary).toMatch(/invalid input syntax for type integer/);
    expect((await ask('SELECT status, filename FROM documents GROUP BY status')).summary).toMatch(/must appear in the GROUP BY/);
  });

  it('keeps duplicate column names apart and tells the model the views', async () => {
    expect((await ask('SELECT 1 AS n, 2 AS n')).output).toEqual({ columns: ['n', 'n_2'], rows: [{ n: 1, n_2: 2 }], rowCount: 1, truncated: false });
    const [description] = registry.describe();
    expect(description.name).toBe('database');
    expect(JSON.stringify(description.parameters)).toMatch(/documents \(one row per uploaded document\): id uuid, filename text/);
    expect(JSON.stringify(description.parameters)).not.toMatch(/tenant/);
  });
});
