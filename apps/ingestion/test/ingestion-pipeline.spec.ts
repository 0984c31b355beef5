import { createHash } from 'node:crypto';
import { ErrorCode, type IngestDocumentPayload } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { type Embedder, LocalHashingEmbedder } from '@quarry/llm';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import {
  type DataSource,
  DocumentRepository,
  ProcessingJobRepository,
  bytesToVector,
  createDataSource,
  runMigrationsExclusively,
} from '@quarry/persistence';
import { type TestSchema, createTestSchema } from '@quarry/testing';
import { DocumentChunker } from '../src/chunking/document-chunker';
import { TokenCounter } from '../src/chunking/token-counter';
import { IngestionPipeline, type PipelineAttempt } from '../src/services/ingestion-pipeline.service';

const TENANT = 'acme';

const HANDBOOK = `# Employee Handbook

Welcome to the company. This handbook explains how we work together.

## Vacation

Employees receive 27 days of paid vacation per year. Vacation requests go to your manager at least two
weeks ahead. Public holidays do not count as vacation days.

### Carry-over

Up to five unused vacation days carry over into the next calendar year; the rest expire on March 31.

## Expenses

Submit receipts within thirty days of travel. Expenses above 500 euros need approval in advance.
`;

/** An embedder that fails its first `failures` calls (a flaky network), then embeds locally. */
class FlakyEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  calls = 0;

  constructor(
    private readonly inner: Embedder,
    private failures: number,
  ) {
    this.model = inner.model;
    this.dimensions = inner.dimensions;
  }

  embed(texts: string[]): Promise<Float32Array[]> {
    this.calls++;
    if (this.failures > 0) {
      this.failures--;
      return Promise.reject(new Error('connect ECONNRESET 10.0.0.7:443'));
    }
    return this.inner.embed(texts);
  }
}

interface ChunkRow {
  id: string;
  ordinal: number;
  text: string;
  token_count: number;
  provenance: { charStart: number; charEnd: number; headingPath?: string[] };
  embedding: Buffer;
  embedding_model: string;
  tenant_id: string;
}

describe('IngestionPipeline against a real Postgres', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  let tokens: TokenCounter;
  let chunker: DocumentChunker;
  let embedder: LocalHashingEmbedder;
  let metrics: ServiceMetrics;
  let documents: DocumentRepository;
  let jobCounter = 0;
  const logger = createLogger({ service: 'ingestion-test', level: 'error', silent: true });

  beforeAll(async () => {
    schema = await createTestSchema('ingestion');
    dataSource = await createDataSource({
      url: schema.url,
      schema: schema.schema,
      poolMax: 4,
      statementTimeoutMs: 10_000,
      applicationName: 'quarry-ingestion-test',
    }).initialize();
    await runMigrationsExclusively(dataSource);
    tokens = new TokenCounter();
    chunker = new DocumentChunker(tokens, { chunkSizeTokens: 40, chunkOverlapTokens: 8 });
    embedder = new LocalHashingEmbedder({ dimensions: 64 });
    documents = new DocumentRepository(dataSource);
  });

  afterAll(async () => {
    tokens?.dispose();
    await dataSource?.destroy();
    await schema?.drop();
  });

  beforeEach(() => {
    metrics = new ServiceMetrics('ingestion');
  });

  const pipelineWith = (embedderToUse: Embedder = embedder) => new IngestionPipeline(dataSource, embedderToUse, chunker, logger, metrics);

  async function store(filename: string, mediaType: string, content: string | Buffer, tenantId = TENANT) {
    const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const document = await documents.createWithContent({ tenantId, filename, mediaType, sha256, tags: ['hr'], folder: '/handbook' }, bytes);
    const payload: IngestDocumentPayload = { tenantId, documentId: document.id, sha256, correlationId: `corr-${document.id.slice(0, 8)}` };
    return { document, payload };
  }

  const attempt = (number: number, isFinalAttempt = false): PipelineAttempt => ({ queueJobId: `job-${++jobCounter}`, attempt: number, isFinalAttempt });

  const chunkRows = (documentId: string): Promise<ChunkRow[]> =>
    dataSource.query('SELECT * FROM chunks WHERE document_id = $1 ORDER BY ordinal', [documentId]);
  const indexChanges = (documentId: string): Promise<Array<{ kind: string; tenant_id: string }>> =>
    dataSource.query('SELECT kind, tenant_id FROM index_changes WHERE document_id = $1 ORDER BY seq', [documentId]);
  const runs = (documentId: string) => new ProcessingJobRepository(dataSource).forDocument(documentId);
  const outcomes = async (): Promise<Record<string, number>> => {
    const { values } = await metrics.documentsTotal.get();
    return Object.fromEntries(values.map((value): [string, number] => [String(value.labels.outcome), value.value]));
  };

  it('turns a stored Markdown document into indexed chunks with vectors and an index change', async () => {
    const { document, payload } = await store('handbook.md', 'text/markdown', HANDBOOK);
    const job = attempt(1);

    await expect(pipelineWith().ingest(payload, job)).resolves.toBeUndefined();

    const rows = await chunkRows(document.id);
    expect(rows.length).toBeGreaterThan(2);
    const indexed = await documents.findById(TENANT, document.id);
    expect(indexed).toMatchObject({ status: 'indexed', error: null, chunkCount: rows.length });
    expect(indexed?.indexedAt).toBeInstanceOf(Date);

    expect(rows.map((row) => row.ordinal)).toEqual(rows.map((_, index) => index));
    for (const row of rows) {
      expect(row.tenant_id).toBe(TENANT);
      expect(row.embedding_model).toBe('local-hash-v1-64');
      expect(row.token_count).toBe(tokens.count(row.text));
      expect(row.token_count).toBeLessThanOrEqual(40);
      expect(HANDBOOK.slice(row.provenance.charStart, row.provenance.charEnd)).toBe(row.text);
      const vector = bytesToVector(row.embedding);
      expect(vector).toHaveLength(64);
      expect(Array.from(vector)).toEqual(Array.from(embedder.embedOne(row.text)));
    }
    const vacation = rows.find((row) => row.text.includes('27 days of paid vacation'));
    expect(vacation?.provenance.headingPath).toEqual(['Employee Handbook', 'Vacation']);
    const carryOver = rows.find((row) => row.text.includes('Up to five unused'));
    expect(carryOver?.provenance.headingPath).toEqual(['Employee Handbook', 'Vacation', 'Carry-over']);

    expect(await indexChanges(document.id)).toEqual([{ kind: 'upsert', tenant_id: TENANT }]);
    expect(await runs(document.id)).toEqual([
      expect.objectContaining({ kind: 'ingest', status: 'completed', attempt: 1, queueJobId: job.queueJobId, error: null, correlationId: payload.correlationId }),
    ]);
    expect((await runs(document.id))[0].finishedAt).toBeInstanceOf(Date);
    expect(await outcomes()).toEqual({ indexed: 1 });
  });

  it('indexes plain text decoded from Latin-1, without heading paths', async () => {
    const latin1 = Buffer.from('Le café crème coûte trois euros.\n\n# pas un titre\n\nFin.', 'latin1');
    const { document, payload } = await store('menu.txt', 'text/plain', latin1);

    await pipelineWith().ingest(payload, attempt(1));

    const rows = await chunkRows(document.id);
    expect(rows.map((row) => row.text).join(' ')).toContain('Le café crème coûte trois euros.');
    for (const row of rows) expect(row.provenance).not.toHaveProperty('headingPath');
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'indexed', chunkCount: rows.length });
  });

  it('fails a whitespace-only document for good, with a readable reason', async () => {
    const { document, payload } = await store('blank.md', 'text/markdown', ' \n\n\t  \r\n ');

    const failure = pipelineWith().ingest(payload, attempt(1));
    await expect(failure).rejects.toBeInstanceOf(DomainError);
    await expect(failure).rejects.toMatchObject({ code: ErrorCode.EmptyDocument, permanent: true });

    // Permanent: failed on the first attempt, although more attempts were left.
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'failed', error: 'the document contains no text', chunkCount: 0 });
    expect(await runs(document.id)).toEqual([expect.objectContaining({ status: 'failed', error: 'the document contains no text', attempt: 1 })]);
    expect(await chunkRows(document.id)).toEqual([]);
    expect(await indexChanges(document.id)).toEqual([]);
    expect(await outcomes()).toEqual({ failed: 1 });
  });

  it('fails an empty file and a binary file with their own reasons', async () => {
    const empty = await store('empty.txt', 'text/plain', Buffer.alloc(0));
    await expect(pipelineWith().ingest(empty.payload, attempt(1))).rejects.toMatchObject({ code: ErrorCode.EmptyDocument });
    expect(await documents.findById(TENANT, empty.document.id)).toMatchObject({ status: 'failed', error: 'the file is empty' });

    const binary = await store('image.md', 'text/markdown', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x01, 0x02]));
    await expect(pipelineWith().ingest(binary.payload, attempt(1))).rejects.toMatchObject({ code: ErrorCode.UnsupportedType });
    expect(await documents.findById(TENANT, binary.document.id)).toMatchObject({
      status: 'failed',
      error: 'the file contains binary data, not text',
    });
  });

  it('ignores a re-delivered job for a document already indexed with the same content', async () => {
    const { document, payload } = await store('again.md', 'text/markdown', HANDBOOK);
    await pipelineWith().ingest(payload, attempt(1));
    const chunkIds = (await chunkRows(document.id)).map((row) => row.id);
    const embedSpy = new FlakyEmbedder(embedder, 0);

    await expect(pipelineWith(embedSpy).ingest(payload, attempt(1))).resolves.toBeUndefined();

    expect(embedSpy.calls).toBe(0);
    expect(await indexChanges(document.id)).toHaveLength(1);
    expect(await runs(document.id)).toHaveLength(1);
    expect((await chunkRows(document.id)).map((row) => row.id)).toEqual(chunkIds);
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'indexed' });
  });

  it('ignores a job for a document in a final state', async () => {
    const { document, payload } = await store('broken.md', 'text/markdown', '\n\n');
    await expect(pipelineWith().ingest(payload, attempt(1))).rejects.toMatchObject({ code: ErrorCode.EmptyDocument });

    await expect(pipelineWith().ingest(payload, attempt(2))).resolves.toBeUndefined();
    expect(await runs(document.id)).toHaveLength(1);
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'failed' });
  });

  it('does nothing for a deleted document, or for another tenant\'s', async () => {
    const { document, payload } = await store('gone.md', 'text/markdown', HANDBOOK);
    expect(await documents.delete(TENANT, document.id)).toBe(true);
    const embedSpy = new FlakyEmbedder(embedder, 0);

    await expect(pipelineWith(embedSpy).ingest(payload, attempt(1))).resolves.toBeUndefined();

    expect(embedSpy.calls).toBe(0);
    expect(await indexChanges(document.id)).toEqual([{ kind: 'delete', tenant_id: TENANT }]);
    const [{ count }]: Array<{ count: string }> = await dataSource.query('SELECT count(*) FROM processing_jobs WHERE document_id = $1', [document.id]);
    expect(count).toBe('0');

    const other = await store('theirs.md', 'text/markdown', HANDBOOK);
    await expect(pipelineWith(embedSpy).ingest({ ...other.payload, tenantId: 'intruder' }, attempt(1))).resolves.toBeUndefined();
    expect(embedSpy.calls).toBe(0);
    expect(await documents.findById(TENANT, other.document.id)).toMatchObject({ status: 'queued' });
  });

  it('leaves a transient failure to the next attempt, which indexes the document', async () => {
    const { document, payload } = await store('flaky.md', 'text/markdown', HANDBOOK);
    const flaky = new FlakyEmbedder(embedder, 1);

    const failure = pipelineWith(flaky).ingest(payload, attempt(1));
    await expect(failure).rejects.toThrow('ECONNRESET');
    await expect(failure).rejects.not.toBeInstanceOf(DomainError);

    // Not the final attempt: still processing, no readable failure yet, but the attempt is on record.
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'processing', error: null });
    expect(await runs(document.id)).toEqual([
      expect.objectContaining({ attempt: 1, status: 'failed', error: 'ingestion failed: connect ECONNRESET 10.0.0.7:443' }),
    ]);
    expect(await chunkRows(document.id)).toEqual([]);
    expect(await outcomes()).toEqual({});

    await expect(pipelineWith(flaky).ingest(payload, attempt(2))).resolves.toBeUndefined();

    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'indexed', error: null });
    const history = await runs(document.id);
    expect(history.map((run) => [run.attempt, run.status]).sort()).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
    expect(await indexChanges(document.id)).toHaveLength(1);
    expect(await outcomes()).toEqual({ indexed: 1 });
  });

  it('marks the document failed when the final attempt fails', async () => {
    const { document, payload } = await store('doomed.md', 'text/markdown', HANDBOOK);
    const down = new FlakyEmbedder(embedder, Number.POSITIVE_INFINITY);

    await expect(pipelineWith(down).ingest(payload, attempt(4))).rejects.toThrow('ECONNRESET');
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'processing' });

    await expect(pipelineWith(down).ingest(payload, attempt(5, true))).rejects.toThrow('ECONNRESET');

    expect(await documents.findById(TENANT, document.id)).toMatchObject({
      status: 'failed',
      error: 'ingestion failed: connect ECONNRESET 10.0.0.7:443',
      chunkCount: 0,
    });
    expect((await runs(document.id)).map((run) => run.status)).toEqual(['failed', 'failed']);
    expect(await indexChanges(document.id)).toEqual([]);
    expect(await outcomes()).toEqual({ failed: 1 });
  });

  it('re-indexes a document whose earlier attempt stopped half-way, replacing its chunks', async () => {
    const { document, payload } = await store('retry.md', 'text/markdown', HANDBOOK);
    await pipelineWith().ingest(payload, attempt(1));
    const first = await chunkRows(document.id);
    // A crash after the chunks were stored but before the job finished leaves the document processing.
    await dataSource.query(`UPDATE documents SET status = 'processing' WHERE id = $1`, [document.id]);

    await pipelineWith().ingest(payload, attempt(2));

    const second = await chunkRows(document.id);
    expect(second.map((row) => row.text)).toEqual(first.map((row) => row.text));
    expect(second.map((row) => row.id)).not.toEqual(first.map((row) => row.id));
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'indexed', chunkCount: first.length });
    expect(await indexChanges(document.id)).toHaveLength(2);
  });
});
