import { QueueName, stageJobId } from '@quarry/contracts';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import {
  type ArtifactKind,
  ArtifactRepository,
  type DataSource,
  DocumentRepository,
  ProcessingJobRepository,
  createDataSource,
  runMigrationsExclusively,
} from '@quarry/persistence';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, failNextJob, stallNextJobTwice } from '@quarry/testing';
import { BullMqClient, JobClient, type QueueRegistry } from '@quarry/transport';
import { loadSchedulerConfig } from '../src/config';
import { ReconcileDocumentsJob } from '../src/jobs/reconcile-documents.job';

const TENANT = 'acme';

describe('reconciler (real Postgres and Redis)', () => {
  let schema: TestSchema;
  let dataSource: DataSource;
  let documents: DocumentRepository;
  let artifacts: ArtifactRepository;
  let attempts: ProcessingJobRepository;
  // Each test gets a Redis prefix of its own: the fixtures take "the next job" of the queue.
  let redis: TestRedisPrefix;
  let client: BullMqClient;
  let counter = 0;

  beforeAll(async () => {
    schema = await createTestSchema('reconcile');
    dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 6, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    documents = new DocumentRepository(dataSource);
    artifacts = new ArtifactRepository(dataSource);
    attempts = new ProcessingJobRepository(dataSource);
  });

  beforeEach(() => {
    redis = createTestRedisPrefix('reconcile');
    client = new BullMqClient({ url: redis.url, prefix: redis.prefix, requestTimeoutMs: 5000 });
  });

  afterEach(async () => {
    // Their jobs go with the prefix: leftover live documents would be stuck candidates of the next test.
    await dataSource.query(`UPDATE documents SET status = 'cancelled' WHERE status IN ('queued', 'processing')`);
    await client?.close();
    await redis?.cleanup();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await schema?.drop();
  });

  function reconciler(env: Record<string, string> = {}) {
    const metrics = new ServiceMetrics('task-scheduler');
    const config = loadSchedulerConfig({ RECONCILE_MAX_STEP_ATTEMPTS: '3', ...env });
    const job = new ReconcileDocumentsJob(dataSource, new JobClient(client), config, createLogger({ service: 't', level: 'error', silent: true }), metrics);
    return { run: (stuckForSeconds = 60) => job.handle({ stuckForSeconds }), metrics };
  }

  const queue = () => client.unwrap<QueueRegistry>().queue(QueueName.Ingestion);
  const payloadOf = (document: { id: string; sha256: string }) => ({ tenantId: TENANT, documentId: document.id, sha256: document.sha256 });

  async function stuckDocument(stage: string | null, status: 'queued' | 'processing', outputs: ArtifactKind[] = []) {
    const sha256 = (++counter).toString(16).padStart(64, '0');
    const { document } = await documents.createOrFindLive({ tenantId: TENANT, filename: 'x.md', mediaType: 'text/markdown', sha256, tags: [], folder: '/' }, Buffer.from(`doc ${counter}`));
    for (const kind of outputs) await artifacts.save(TENANT, document.id, kind, sha256, { data: { kind } });
    await makeOld(document.id);
    await dataSource.query(`UPDATE documents SET status = $2, stage = $3 WHERE id = $1`, [document.id, status, stage]);
    return { id: document.id, sha256 };
  }

  const makeOld = (id: string) => dataSource.query(`UPDATE documents SET updated_at = now() - interval '1 hour' WHERE id = $1`, [id]);
  const stateOf = (stage: 'parse' | 'chunk' | 'embed' | 'index', document: { id: string; sha256: string }) =>
    queue().getJobState(stageJobId(stage, document.id, document.sha256));

  it('resumes each stuck document at the first step whose output is missing, once, and leaves live ones alone', async () => {
    // The recorded stage says chunk, but chunk stored its output: the embed step is what is missing.
    const chunked = await stuckDocument('chunk', 'processing', ['parsed', 'chunks']);
    const neverStarted = await stuckDocument(null, 'queued');
    // A small document runs its steps inline and stores no outputs: it restarts at parse.
    const inline = await stuckDocument('embed', 'processing');
    const allOutputs = await stuckDocument('embed', 'processing', ['parsed', 'chunks', 'embeddings']);
    const waiting = await stuckDocument('chunk', 'processing', ['parsed']);
    await queue().add('ingestion.chunk-document', payloadOf(waiting), { jobId: stageJobId('chunk', waiting.id, waiting.sha256) });
    const { run, metrics } = reconciler();

    const summary = await run();

    const embedJob = await queue().getJob(stageJobId('embed', chunked.id, chunked.sha256));
    expect(embedJob?.name).toBe('ingestion.embed-document');
    expect(embedJob?.data).toEqual(payloadOf(chunked));
    expect(await stateOf('chunk', chunked)).toBe('unknown');
    expect((await queue().getJob(stageJobId('parse', neverStarted.id, neverStarted.sha256)))?.name).toBe('ingestion.ingest-document');
    expect((await queue().getJob(stageJobId('parse', inline.id, inline.sha256)))?.name).toBe('ingestion.ingest-document');
    expect((await queue().getJob(stageJobId('index', allOutputs.id, allOutputs.sha256)))?.name).toBe('ingestion.index-document');
    expect(await queue().getJobCountByTypes('waiting', 'prioritized')).toBe(5);
    expect(summary).toEqual({ looked: 5, alive: 1, redriven: 4, gaveUp: 0 });
    const series = (await metrics.documentsRedriven.get()).values;
    expect(series).toHaveLength(12);
    const redriven = series.filter((value) => value.value > 0).map((value) => `${value.labels.stage}:${value.labels.cause}=${value.value}`).sort();
    expect(redriven).toEqual(['embed:missing=1', 'index:missing=1', 'parse:missing=2']);

    // Touched, and their jobs are alive now: a second round right away re-drives nothing.
    await expect(run()).resolves.toMatchObject({ redriven: 0 });
    expect(await queue().getJobCountByTypes('waiting', 'prioritized')).toBe(5);
  });

  it('replaces a failed job left under the deterministic id of the step to resume (the jammed chain), and never counts it', async () => {
    // After a Postgres outage: chunk finished, but every attempt of the embed job failed, and BullMQ
    // keeps that failed job for days under the id the chain and the reconciler add.
    const jammed = await stuckDocument('chunk', 'processing', ['parsed', 'chunks']);
    await queue().add('ingestion.embed-document', payloadOf(jammed), { jobId: stageJobId('embed', jammed.id, jammed.sha256), attempts: 1 });
    await failNextJob(queue(), redis, 'SERVICE_UNAVAILABLE: the database (Postgres) is unavailable; retry shortly');
    expect(await stateOf('embed', jammed)).toBe('failed');
    const { run, metrics } = reconciler();

    // More rounds than RECONCILE_MAX_STEP_ATTEMPTS (3), each after the re-driven job was lost again.
    for (let round = 1; round <= 5; round++) {
      const summary = await run();
      expect(await stateOf('embed', jammed)).toBe('waiting');
      expect((await queue().getJob(stageJobId('embed', jammed.id, jammed.sha256)))?.data).toEqual(payloadOf(jammed));
      expect(summary).toMatchObject({ redriven: 1, gaveUp: 0 });
      await failNextJob(queue(), redis, 'SERVICE_UNAVAILABLE: the queue broker (Redis) is unavailable; retry shortly');
      await makeOld(jammed.id);
    }
    expect(await stateOf('chunk', jammed)).toBe('unknown');
    expect((await metrics.documentsRedriven.get()).values.find((value) => value.labels.stage === 'embed' && value.labels.cause === 'failed')?.value).toBe(5);
    expect(await documents.findById(TENANT, jammed.id)).toMatchObject({ status: 'processing', error: null });
    expect(await attempts.failures(TENANT, jammed.id, 'embed')).toEqual({ count: 0, lastError: null });
  });

  it('counts a job whose workers died twice as a real failure, and gives up on a document that keeps killing them', async () => {
    const poison = await stuckDocument('parse', 'processing');
    await attempts.record({ tenantId: TENANT, documentId: poison.id, queueJobId: 'ingest-earlier', kind: 'parse', attempt: 1, startedAt: new Date(), status: 'failed', error: 'parse step failed: boom' });
    await attempts.record({ tenantId: TENANT, documentId: poison.id, queueJobId: 'ingest-earlier', kind: 'parse', attempt: 2, startedAt: new Date(), status: 'interrupted', error: 'stopped: the database (Postgres) is unavailable; retry shortly' });
    const jobId = stageJobId('parse', poison.id, poison.sha256);
    await queue().add('ingestion.ingest-document', payloadOf(poison), { jobId });
    await stallNextJobTwice(queue(), redis);
    expect((await queue().getJob(jobId))?.failedReason).toBe('job stalled more than allowable limit');
    const { run } = reconciler();

    // One real failure before, one now: 2 of 3, so the job is replaced and the document goes on.
    await expect(run()).resolves.toMatchObject({ redriven: 1 });
    expect(await stateOf('parse', poison)).toBe('waiting');
    const stall = 'the parse step stopped its worker twice (the process crashed, ran out of memory or was killed)';
    expect(await attempts.failures(TENANT, poison.id, 'parse')).toEqual({ count: 2, lastError: stall });
    // Another reconciler that saw the same failed job records it once only.
    const [recorded] = (await attempts.forDocument(TENANT, poison.id)).filter((row) => row.error === stall);
    const again = { tenantId: TENANT, documentId: poison.id, queueJobId: recorded.queueJobId, kind: 'parse', attempt: recorded.attempt, startedAt: recorded.startedAt, status: 'failed' as const, error: stall };
    await expect(attempts.recordOnce(again)).resolves.toBe(false);

    await stallNextJobTwice(queue(), redis);
    await makeOld(poison.id);
    await expect(run()).resolves.toMatchObject({ gaveUp: 1 });
    expect(await documents.findById(TENANT, poison.id)).toMatchObject({
      status: 'failed',
      error: 'the parse step failed 3 times; giving up (last failure: the parse step stopped its worker twice (the process crashed, ran out of memory or was killed))',
    });
    expect(await stateOf('parse', poison)).toBe('failed');
  }, 30_000);

  it('gives up on a step that keeps failing for real, with a readable reason; interruptions do not count', async () => {
    const failing = await stuckDocument('chunk', 'processing', ['parsed']);
    for (let attempt = 1; attempt <= 3; attempt++) {
      await attempts.record({ tenantId: TENANT, documentId: failing.id, queueJobId: 'x', kind: 'chunk', attempt, startedAt: new Date(), status: 'failed', error: `chunk step failed: bug #${attempt}` });
    }
    const interrupted = await stuckDocument('chunk', 'processing', ['parsed']);
    for (let attempt = 1; attempt <= 6; attempt++) {
      await attempts.record({ tenantId: TENANT, documentId: interrupted.id, queueJobId: 'x', kind: 'chunk', attempt, startedAt: new Date(), status: 'interrupted', error: 'stopped: document is processing' });
    }
    const { run, metrics } = reconciler();
    await expect(run()).resolves.toMatchObject({ gaveUp: 1, redriven: 1 });
    expect(await documents.findById(TENANT, failing.id)).toMatchObject({ status: 'failed', error: 'the chunk step failed 3 times; giving up (last failure: chunk step failed: bug #3)' });
    expect(await artifacts.kinds(TENANT, failing.id, failing.sha256)).toEqual(new Set());
    expect(await documents.findById(TENANT, interrupted.id)).toMatchObject({ status: 'processing' });
    expect((await metrics.documentsTotal.get()).values.filter((value) => value.value > 0)).toEqual([expect.objectContaining({ labels: { outcome: 'failed' }, value: 1 })]);
  });

  it('reaches lost documents behind a backlog of more than a page of live ones, and a capped round goes on where it stopped', async () => {
    // 600 queued documents, older than the two lost ones, all with their parse job waiting.
    await dataSource.query(`INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING`, [TENANT]);
    const backlog: Array<{ id: string; sha256: string }> = await dataSource.query(
      `INSERT INTO documents (tenant_id, filename, media_type, size_bytes, sha256, status, updated_at)
       SELECT $1, 'backlog-' || g, 'text/plain', 10, lpad(to_hex($2::int + g), 64, '0'), 'queued', now() - interval '2 hours' + g * interval '1 second'
       FROM generate_series(1, 600) g RETURNING id, trim(sha256) AS sha256`,
      [TENANT, 1_000_000],
    );
    await queue().addBulk(backlog.map((document) => ({ name: 'ingestion.ingest-document', data: payloadOf(document), opts: { jobId: stageJobId('parse', document.id, document.sha256) } })));
    const lost = [await stuckDocument(null, 'queued'), await stuckDocument(null, 'queued')];

    await expect(reconciler().run()).resolves.toEqual({ looked: 602, alive: 600, redriven: 2, gaveUp: 0 });
    for (const document of lost) expect(await stateOf('parse', document)).toBe('waiting');

    // With a cap of 400 a round, the first round sees only live ones; the next one goes on from there.
    for (const document of lost) {
      await queue().remove(stageJobId('parse', document.id, document.sha256));
      await makeOld(document.id);
    }
    const capped = reconciler({ RECONCILE_MAX_DOCUMENTS_PER_ROUND: '400' });
    await expect(capped.run()).resolves.toEqual({ looked: 400, alive: 400, redriven: 0, gaveUp: 0 });
    await expect(capped.run()).resolves.toEqual({ looked: 202, alive: 200, redriven: 2, gaveUp: 0 });
    for (const document of lost) expect(await stateOf('parse', document)).toBe('waiting');
    // After the end, the next round starts from the oldest again.
    await expect(capped.run()).resolves.toEqual({ looked: 400, alive: 400, redriven: 0, gaveUp: 0 });
  }, 30_000);
});
