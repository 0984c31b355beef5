import { QueueName, stageJobId } from '@quarry/contracts';
import { createLogger } from '@quarry/observability';
import { type DataSource, DocumentRepository, ProcessingJobRepository, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { BullMqClient, JobClient, type QueueRegistry } from '@quarry/transport';
import { loadSchedulerConfig } from '../src/config';
import { ReconcileDocumentsJob } from '../src/jobs/reconcile-documents.job';

describe('reconciler (real Postgres and Redis)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let dataSource: DataSource;
  let client: BullMqClient;
  let reconciler: ReconcileDocumentsJob;
  let documents: DocumentRepository;
  let counter = 0;

  beforeAll(async () => {
    schema = await createTestSchema('reconcile');
    redis = createTestRedisPrefix('reconcile');
    dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    client = new BullMqClient({ url: redis.url, prefix: redis.prefix, requestTimeoutMs: 5000 });
    documents = new DocumentRepository(dataSource);
    const config = loadSchedulerConfig({ RECONCILE_MAX_STEP_ATTEMPTS: '3' });
    reconciler = new ReconcileDocumentsJob(dataSource, new JobClient(client), config, createLogger({ service: 't', level: 'error', silent: true }));
  });

  afterAll(async () => {
    await client?.close();
    await dataSource?.destroy();
    await redis?.cleanup();
    await schema?.drop();
  });

  const queue = () => client.unwrap<QueueRegistry>().queue(QueueName.Ingestion);

  async function stuckDocument(stage: string | null, status: 'queued' | 'processing') {
    const sha256 = (++counter).toString(16).padStart(64, '0');
    const { document } = await documents.createOrFindLive({ tenantId: 'acme', filename: 'x.md', mediaType: 'text/markdown', sha256, tags: [], folder: '/' }, Buffer.from(`doc ${counter}`));
    await dataSource.query(`UPDATE documents SET status = $2, stage = $3, updated_at = now() - interval '1 hour' WHERE id = $1`, [document.id, status, stage]);
    return { id: document.id, sha256 };
  }

  it('re-adds the step job a stuck document is at, once, and leaves live jobs alone', async () => {
    const lostEmbed = await stuckDocument('embed', 'processing');
    const neverStarted = await stuckDocument(null, 'queued');
    const waiting = await stuckDocument('chunk', 'processing');
    await queue().add('ingestion.chunk-document', { tenantId: 'acme', documentId: waiting.id, sha256: waiting.sha256 }, { jobId: stageJobId('chunk', waiting.id, waiting.sha256) });

    await reconciler.handle({ stuckForSeconds: 60 });

    const embedJob = await queue().getJob(stageJobId('embed', lostEmbed.id, lostEmbed.sha256));
    expect(embedJob?.name).toBe('ingestion.embed-document');
    expect(embedJob?.data).toEqual({ tenantId: 'acme', documentId: lostEmbed.id, sha256: lostEmbed.sha256 });
    expect((await queue().getJob(stageJobId('parse', neverStarted.id, neverStarted.sha256)))?.name).toBe('ingestion.ingest-document');
    expect(await queue().getJobCountByTypes('waiting', 'prioritized')).toBe(3);

    // Touched: a second run right away re-drives nothing.
    await reconciler.handle({ stuckForSeconds: 60 });
    expect(await queue().getJobCountByTypes('waiting', 'prioritized')).toBe(3);
  });

  it('gives up on a step that keeps failing, with a readable reason', async () => {
    const poison = await stuckDocument('parse', 'processing');
    const attempts = new ProcessingJobRepository(dataSource);
    for (let attempt = 1; attempt <= 3; attempt++) await attempts.record({ documentId: poison.id, queueJobId: 'x', kind: 'parse', attempt, startedAt: new Date(), status: 'failed', error: 'worker crashed' });
    await reconciler.handle({ stuckForSeconds: 60 });
    expect(await documents.findById('acme', poison.id)).toMatchObject({
      status: 'failed',
      error: 'the parse step did not finish after 3 attempts; giving up',
    });
  });
});
