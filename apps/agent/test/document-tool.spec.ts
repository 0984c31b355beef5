import { createHash, randomUUID } from 'node:crypto';
import { ChunkRepository, type DataSource, DocumentRepository, createDataSource, ensureDatabaseAndSchema, runMigrationsExclusively } from '@quarry/persistence';
import { type TestSchema, createTestSchema } from '@quarry/testing';
import { createDocumentTool } from '../src/tools/document-tool';
import { ToolRegistry } from '../src/tools/tool-registry';

const sha = (text: string) => createHash('sha256').update(text).digest('hex');

/** The document tool on real Postgres: the caller's documents and passages, and nothing of another tenant's. */
describe('document tool (real Postgres)', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  let registry: ToolRegistry;
  const failures: unknown[] = [];
  let acme: { documentId: string; chunkIds: string[] };
  let globex: { documentId: string; chunkIds: string[] };

  beforeAll(async () => {
    schema = await createTestSchema('doctool');
    const settings = { url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'quarry-test' };
    await ensureDatabaseAndSchema(settings);
    dataSource = await createDataSource(settings).initialize();
    await runMigrationsExclusively(dataSource);
    const documents = new DocumentRepository(dataSource);
    const chunks = new ChunkRepository(dataSource);
    const [active] = await dataSource.query<Array<{ model: string }>>("SELECT model FROM embedding_versions WHERE state = 'active'");
    const model = active?.model ?? 'test-embedder';
    const seed = async (tenantId: string, filename: string, texts: string[]) => {
      const document = await documents.createWithContent(
        { tenantId, filename, mediaType: 'text/plain', sha256: sha(tenantId + filename), tags: ['finance'], folder: '/reports' },
        Buffer.from(texts.join('\n')),
      );
      await documents.saveAnalysis(tenantId, document.id, { summary: `${filename} in brief`, language: 'en' });
      const stored = await chunks.replaceDocumentChunks(
        tenantId,
        document.id,
        model,
        texts.map((text, ordinal) => ({ ordinal, text, tokenCount: text.split(' ').length, provenance: { start: ordinal * 100, headings: ['Results'] }, embedding: Float32Array.from([1, 0]) })),
      );
      expect(stored).toBe(true);
      const rows = await dataSource.query<Array<{ id: string }>>('SELECT id FROM chunks WHERE document_id = $1 ORDER BY ordinal', [document.id]);
      return { documentId: document.id, chunkIds: rows.map((row) => row.id) };
    };
    acme = await seed('acme', 'acme-2023.txt', ['Revenue was 1450 million.', 'Costs were 900 million.']);
    globex = await seed('globex', 'globex-secret.txt', ['Globex payroll is confidential.']);
    registry = new ToolRegistry([createDocumentTool(dataSource)], undefined, (_tool, error) => failures.push(error));
  }, 60_000);

  afterAll(async () => {
    await dataSource?.destroy();
    await schema?.drop();
  });

  afterEach(() => {
    expect(failures).toEqual([]);
  });

  const fetch = (args: unknown, tenantId = 'acme') => registry.call('document', args, { tenantId, signal: new AbortController().signal });

  it("returns the caller's document metadata", async () => {
    const result = await fetch({ documentId: acme.documentId });
    expect(result.outcome).toBe('ok');
    expect(result.output).toEqual({
      document: {
        id: acme.documentId,
        filename: 'acme-2023.txt',
        mediaType: 'text/plain',
        status: 'indexed',
        tags: ['finance'],
        folder: '/reports',
        sizeBytes: Buffer.byteLength('Revenue was 1450 million.\nCosts were 900 million.'),
        pageCount: null,
        chunkCount: 2,
        summary: 'acme-2023.txt in brief',
        language: 'en',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) as unknown,
        updatedAt: expect.stringMatching(/Z$/) as unknown,
        indexedAt: expect.stringMatching(/Z$/) as unknown,
      },
    });
    expect(result.summary).toBe('acme-2023.txt: text/plain, indexed, 2 passages');
  });

  it("returns one of the caller's passages with its position and provenance", async () => {
    const result = await fetch({ documentId: acme.documentId, chunkId: acme.chunkIds[1] });
    expect(result.output).toMatchObject({
      document: { id: acme.documentId, filename: 'acme-2023.txt' },
      chunk: { id: acme.chunkIds[1], ordinal: 1, text: 'Costs were 900 million.', tokenCount: 4, provenance: { start: 100, headings: ['Results'] } },
    });
    expect(result.summary).toBe('passage 1 of acme-2023.txt (23 characters)');
  });

  it("answers another tenant's ids exactly as ids that do not exist", async () => {
    const foreign = await fetch({ documentId: globex.documentId });
    const missing = await fetch({ documentId: randomUUID() });
    expect(foreign.outcome).toBe('refused');
    expect(missing.outcome).toBe('refused');
    expect(foreign.summary.replace(globex.documentId, 'ID')).toBe(missing.summary.replace(/[0-9a-f-]{36}/, 'ID'));
    expect(JSON.stringify(foreign)).not.toMatch(/globex-secret|payroll/);
    // Globex's passage asked for under acme's document, or under globex's document, is not found either.
    const crossed = await fetch({ documentId: acme.documentId, chunkId: globex.chunkIds[0] });
    expect(crossed).toMatchObject({ outcome: 'refused', summary: `document ${acme.documentId} has no passage with id ${globex.chunkIds[0]}` });
    expect((await fetch({ documentId: globex.documentId, chunkId: globex.chunkIds[0] })).outcome).toBe('refused');
    // Globex itself sees its own document.
    expect((await fetch({ documentId: globex.documentId, chunkId: globex.chunkIds[0] }, 'globex')).output).toMatchObject({ chunk: { text: 'Globex payroll is confidential.' } });
  });

  it('refuses ids that are not uuids before touching the database', async () => {
    const result = await fetch({ documentId: "1' OR '1'='1" });
    expect(result.outcome).toBe('refused');
    expect(result.summary).toMatch(/invalid input/);
    const [description] = registry.describe();
    expect(description.parameters).toMatchObject({ required: ['documentId'], properties: { documentId: { format: 'uuid' } } });
  });
});
