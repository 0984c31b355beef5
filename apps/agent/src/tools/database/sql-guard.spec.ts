import { ToolInputError } from '../agent-tool';
import { checkSelect } from './sql-guard';

const refusal = async (sql: string): Promise<string> => {
  try {
    await checkSelect(sql);
  } catch (error) {
    if (error instanceof ToolInputError) return error.message;
    throw error;
  }
  throw new Error(`accepted: ${sql}`);
};

describe('sql guard: one read-only SELECT over the allowed views', () => {
  it.each([
    ['SELECT count(*) FROM documents'],
    ["SELECT status, count(*) AS n FROM documents WHERE 'contracts' = ANY(tags) GROUP BY status ORDER BY n DESC LIMIT 5"],
    ["SELECT filename FROM documents WHERE tags @> ARRAY['x'] AND filename ILIKE '%.pdf' AND created_at > now() - interval '7 days'"],
    ['SELECT d.filename, q.question FROM documents d JOIN queries q ON q.created_at > d.created_at'],
    ['SELECT * FROM documents WHERE id IN (SELECT id FROM documents WHERE size_bytes BETWEEN 1 AND 100)'],
    ["SELECT date_trunc('day', created_at) AS day, avg(total_ms)::numeric(10,2) FROM queries GROUP BY 1"],
    ['SELECT extract(year FROM created_at), coalesce(page_count, 0), greatest(1, 2), nullif(status, \'x\') FROM documents'],
    ['WITH big AS (SELECT * FROM documents WHERE size_bytes > 1000) SELECT count(*) FROM big'],
    ['WITH RECURSIVE n AS (SELECT 1 AS i UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT * FROM n'],
    ['SELECT filename FROM documents UNION SELECT question FROM queries'],
    ['SELECT t, count(*) FROM documents, unnest(tags) AS t GROUP BY t'],
    ['SELECT row_number() OVER (ORDER BY created_at), filename FROM documents'],
    ['SELECT CASE WHEN status = \'failed\' THEN 1 ELSE 0 END, CURRENT_DATE FROM documents;'],
    ['SELECT 1 /* a /* nested */ comment */ -- trailing'],
    // Comments nest in PostgreSQL, so the DELETE is inside the comment for the server as for the guard.
    ['SELECT 1 /* nested /* */ ; DELETE FROM documents; */'],
  ])('accepts %s', async (sql) => {
    await expect(checkSelect(sql)).resolves.toEqual({ text: expect.stringContaining('SELECT') as unknown });
  });

  it.each([
    ["UPDATE documents SET status = 'x'", /not UPDATE/],
    ['DELETE FROM documents', /not DELETE/],
    ["INSERT INTO documents (filename) VALUES ('x')", /not INSERT/],
    ['DROP TABLE documents', /not DROP/],
    ['CREATE TABLE x (a int)', /not CREATE TABLE/],
    ["COPY documents TO '/tmp/x'", /not COPY/],
    ['SET search_path = public', /not SET/],
    ["DO $$ BEGIN PERFORM 1; END $$", /not DO/],
    ['CALL p()', /not CALL/],
    ['SELECT 1; DROP TABLE documents', /single SELECT/],
    ['SELECT 1; SELECT 2', /single SELECT/],
    ['SELECT 1 /* */; DELETE FROM documents -- ', /single SELECT/],
    ['SELECT pg_sleep(10)', /pg_sleep\(\) is not allowed/],
    ["SELECT set_config('statement_timeout', '0', false)", /set_config\(\) is not allowed/],
    ["SELECT pg_read_file('/etc/passwd')", /pg_read_file\(\) is not allowed/],
    ["SELECT * FROM dblink('x', 'y') AS t(a int)", /dblink\(\) is not allowed|ColumnDef/],
    ["SELECT lo_import('/etc/passwd')", /lo_import\(\) is not allowed/],
    ["SELECT nextval('s')", /nextval\(\) is not allowed/],
    ['SELECT pg_catalog.now()', /schema-qualified functions/],
    ['SELECT * FROM public.documents', /schema-qualified names/],
    ['SELECT * FROM api_keys', /unknown table "api_keys"/],
    ['SELECT * FROM chunks', /unknown table "chunks"/],
    ['SELECT * FROM pg_catalog.pg_tables', /schema-qualified names/],
    ['SELECT * FROM pg_tables', /unknown table "pg_tables"/],
    ['SELECT * FROM "Documents"', /unknown table "Documents"/],
    ['SELECT x.documents.id FROM documents', /schema-qualified names/],
    ['WITH x AS (DELETE FROM documents RETURNING *) SELECT * FROM x', /not DELETE/],
    ['WITH x AS (UPDATE documents SET folder = \'/\' RETURNING *) SELECT 1', /not UPDATE/],
    ['SELECT * FROM documents FOR UPDATE', /FOR UPDATE/],
    ['SELECT * FROM documents FOR SHARE', /FOR UPDATE \/ FOR SHARE/],
    ['SELECT * INTO t FROM documents', /INTO is not allowed/],
    ['SELECT 1 UNION SELECT * INTO t FROM documents', /INTO is not allowed/],
    ['SELECT * FROM documents WHERE id = $1', /placeholders/],
    ["SELECT 'documents'::regclass", /type regclass is not allowed/],
    ['SELECT current_user', /CURRENT_USER is not allowed/],
    ['SELECT * FROM documents TABLESAMPLE SYSTEM (10)', /RangeTableSample is not allowed/],
    ['SELECT 1 OPERATOR(pg_catalog.+) 1', /operator pg_catalog\.\+ is not allowed/],
    ['EXPLAIN SELECT 1', /not EXPLAIN/],
    ['SELECT (SELECT count(*) FROM api_keys) FROM documents', /unknown table "api_keys"/],
    ['SELECT * FROM documents d, LATERAL (SELECT * FROM tenants) t', /unknown table "tenants"/],
    ['SELECT * FROM documents WHERE EXISTS (SELECT 1 FROM conversations c WHERE c.id IS NOT NULL)', /unknown table "conversations"/],
    ['SELECT * FROM ROWS FROM (pg_ls_dir(\'.\')) AS t', /pg_ls_dir\(\) is not allowed/],
    ['SELECT * FROM documents ORDER BY (SELECT 1 FROM messages LIMIT 1)', /unknown table "messages"/],
    ['', /empty/],
    ['-- only a comment', /no statement/],
    ['SELEC 1', /does not parse/],
    // A CTE name is in scope only after its entry (non-recursive WITH) and inside its statement.
    ['WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a', /unknown table "b"/],
    ['SELECT * FROM (WITH api_keys AS (SELECT 1) SELECT 1) s, api_keys', /unknown table "api_keys"/],
    ['(WITH api_keys AS (SELECT 1) SELECT * FROM api_keys) UNION SELECT * FROM api_keys', /unknown table "api_keys"/],
  ])('refuses %s', async (sql, reason) => {
    expect(await refusal(sql)).toMatch(reason);
  });

  it('returns the text of the one statement, without a trailing semicolon, counting UTF-8 bytes', async () => {
    expect(await checkSelect("SELECT 'résumé' AS f FROM documents ;  ")).toEqual({ text: "SELECT 'résumé' AS f FROM documents " });
    expect(await checkSelect('SELECT 1 -- note')).toEqual({ text: 'SELECT 1 -- note' });
  });
});
