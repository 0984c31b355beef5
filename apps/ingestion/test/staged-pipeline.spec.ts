import { createHash } from 'node:crypto';
import { ErrorCode, type IngestDocumentPayload, type IngestionStage, JobName, QueueName, stageJobId } from '@quarry/contracts';
import { type Embedder, LocalHashingEmbedder } from '@quarry/llm';
import { shutdownParsers } from '@quarry/parsers';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import {
  type DataSource,
  DocumentRepository,
  EmbeddingCacheRepository,
  ProcessingJobRepository,
  createDataSource,
  runMigrationsExclusively,
} from '@quarry/persistence';
import { PrivateRedis, type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, waitFor, failNextJob } from '@quarry/testing';
import { BullMqClient, JobClient, type QueueRegistry } from '@quarry/transport';
import { DocumentChunker } from '../src/chunking/document-chunker';
import { TokenCounter } from '../src/chunking/token-counter';
import { CachedEmbedder } from '../src/embedding/cached-embedder';
import { EmbeddingTargetsService } from '../src/embedding/embedding-targets.service';
import { loadIngestionConfig } from '../src/config';
import { IsolatedDocumentParser } from '../src/parsing/isolated-document-parser';
import { StageRunner } from '../src/pipeline/stage-runner.service';
import { ChunkStage } from '../src/stages/chunk.stage';
import { EmbedStage } from '../src/stages/embed.stage';
import { IndexStage } from '../src/stages/index.stage';
import { ReembedCorpusJob } from '../src/jobs/reembed-corpus.job';
import { ParseStage } from '../src/stages/parse.stage';

const TENANT = 'acme';
const HANDBOOK = `# Employee Handbook

Welcome to the company. This handbook explains how we work together.

## Vacation

Employees receive 27 days of paid vacation per year. Vacation requests go to your manager at least two
weeks ahead. Public holidays do not count as vacation days.

### Carry-over

Up to five unused vacation days carry over into the next calendar year; the rest expire on March 31.
`;

/** An embedder that fails its first `failures` calls (with `failure`), or waits for `gate` before answering. */
class ScriptedEmbedder implements Embedder {
  readonly model: string;
  readonly dimensions: number;
  calls = 0;
  gate: Promise<void> | undefined;

  constructor(
    private readonly inner: Embedder,
    public failures = 0,
    private readonly failure: () => Error = () => new Error('connect ECONNRESET 10.0.0.7:443'),
  ) {
    this.model = inner.model;
    this.dimensions = inner.dimensions;
  }

  async embed(texts: string[]): Promise<Float32Array[]> {
    this.calls++;
    if (this.gate) await this.gate;
    if (this.failures > 0) {
      this.failures--;
      throw this.failure();
    }
    return this.inner.embed(texts);
  }
}

describe('staged ingestion pipeline (real Postgres and Redis)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let dataSource: DataSource;
  let documents: DocumentRepository;
  let client: BullMqClient;
  let tokens: TokenCounter;
  const logger = createLogger({ service: 'ingestion-test', level: 'error', silent: true });
  const local = new LocalHashingEmbedder({ dimensions: 64 });
  let jobCounter = 0;

  beforeAll(async () => {
    schema = await createTestSchema('stages');
    redis = createTestRedisPrefix('stages');
    dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 6, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    documents = new DocumentRepository(dataSource);
    client = new BullMqClient({ url: redis.url, prefix: redis.prefix, requestTimeoutMs: 5000 });
    tokens = new TokenCounter();
  });

  afterAll(async () => {
    tokens?.dispose();
    await shutdownParsers();
    await client?.close();
    await dataSource?.destroy();
    await redis?.cleanup();
    await schema?.drop();
  });

  /** The steps as the ingestion service wires them; `broker` replaces the test's Redis prefix. */
  async function pipeline(embedder: Embedder = local, inlineMaxBytes = 0, broker?: { client: BullMqClient; url: string }) {
    const metrics = new ServiceMetrics('ingestion');
    const jobs = new JobClient(broker?.client ?? client);
    const endpoints = { DATABASE_URL: schema.url, REDIS_URL: broker?.url ?? redis.url };
    const runner = new StageRunner(dataSource, jobs, logger, metrics, inlineMaxBytes, true, endpoints);
    const targets = new EmbeddingTargetsService(dataSource, loadIngestionConfig({ EMBEDDING_DIMENSIONS: '64' }), jobs, logger, () => embedder);
    await targets.onApplicationBootstrap();
    const embed = new EmbedStage(dataSource, targets);
    const stages = {
      parse: new ParseStage(dataSource, new IsolatedDocumentParser({ timeoutMs: 20_000, maxHeapMb: 256, maxDecompressedBytes: 64 * 1024 * 1024 })),
      chunk: new ChunkStage(dataSource, new DocumentChunker(tokens, { chunkSizeTokens: 40, chunkOverlapTokens: 8 })),
      embed,
      index: new IndexStage(dataSource, targets, embed, metrics),
    };
    const step = (stage: IngestionStage, payload: IngestDocumentPayload, attempt = 1, isFinalAttempt = false) =>
      runner.run(stages[stage], { payload, queueJobId: `${stage}-${++jobCounter}`, attempt, isFinalAttempt });
    const first = (payload: IngestDocumentPayload, queueJobId = `first-${++jobCounter}`) =>
      runner.runFirstStep(stages, { payload, queueJobId, attempt: 1, isFinalAttempt: false });
    return { metrics, step, first, runner, stages };
  }

  async function store(filename: string, content: string) {
    const bytes = Buffer.from(content, 'utf8');
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { document } = await documents.createOrFindLive({ tenantId: TENANT, filename, mediaType: 'text/markdown', sha256, tags: [], folder: '/' }, bytes);
    return { document, payload: { tenantId: TENANT, documentId: document.id, sha256 } };
  }

  const attemptsOf = async (documentId: string) =>
    (await new ProcessingJobRepository(dataSource).forDocument(TENANT, documentId)).map((run) => `${run.kind}#${run.attempt}:${run.status}`).sort();
  const artifactKinds = async (documentId: string) =>
    (await dataSource.query<Array<{ kind: string }>>('SELECT kind FROM document_artifacts WHERE document_id = $1 ORDER BY kind', [documentId])).map(
      (row) => row.kind,
    );
  const chunkCount = async (documentId: string) =>
    Number((await dataSource.query<Array<{ count: string }>>('SELECT count(*) FROM chunks WHERE document_id = $1', [documentId]))[0].count);
  const queued = (jobId: string) => client.unwrap<QueueRegistry>().queue(QueueName.Ingestion).getJob(jobId);

  it('runs parse → chunk → embed → index as chained jobs with deterministic ids', async () => {
    const { document, payload } = await store('handbook.md', HANDBOOK);
    const { step } = await pipeline();
    for (const stage of ['parse', 'chunk', 'embed', 'index'] as const) await step(stage, payload);

    for (const next of ['chunk', 'embed', 'index', 'analyze'] as const) {
      expect((await queued(stageJobId(next, document.id, payload.sha256)))?.data).toMatchObject(payload);
    }
    const indexed = await documents.findById(TENANT, document.id);
    expect(indexed).toMatchObject({ status: 'indexed', stage: 'index', progress: 100, error: null });
    expect(indexed?.chunkCount).toBe(await chunkCount(document.id));
    expect(indexed?.analysis).toMatchObject({ method: 'heuristic', language: 'en', structure: 'structured' });
    expect(await artifactKinds(document.id)).toEqual([]);
    expect(await attemptsOf(document.id)).toEqual(['chunk#1:completed', 'embed#1:completed', 'index#1:completed', 'parse#1:completed']);
    const [vacation] = await dataSource.query<Array<{ provenance: { headingPath: string[] } }>>(
      `SELECT provenance FROM chunks WHERE document_id = $1 AND text LIKE '%27 days%'`,
      [document.id],
    );
    expect(vacation.provenance.headingPath).toEqual(['Employee Handbook', 'Vacation']);
  });

  it('runs all four steps in the first job for a small document, recording each step', async () => {
    const { document, payload } = await store('small.md', `${HANDBOOK}\nSmall edition.`);
    const { first, metrics } = await pipeline(local, 64 * 1024);
    await first(payload);
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'indexed', progress: 100 });
    expect(await attemptsOf(document.id)).toEqual(['chunk#1:completed', 'embed#1:completed', 'index#1:completed', 'parse#1:completed']);
    expect(await artifactKinds(document.id)).toEqual([]);
    expect(await queued(stageJobId('chunk', document.id, payload.sha256))).toBeUndefined();
    expect(await queued(stageJobId('analyze', document.id, payload.sha256))).toBeDefined();
    expect((await metrics.documentsTotal.get()).values.filter((value) => value.value > 0).map((value) => value.labels.outcome)).toEqual(['indexed']);

    // Over the threshold, the first job only parses and chains the next step.
    const big = await store('big.md', `${HANDBOOK}\nBig edition.`);
    await (await pipeline(local, 10)).first(big.payload);
    expect(await documents.findById(TENANT, big.document.id)).toMatchObject({ status: 'processing', stage: 'parse' });
    expect(await queued(stageJobId('chunk', big.document.id, big.payload.sha256))).toBeDefined();
  });

  it('retries only the failed step: a flaky embed re-runs embed, not parse or chunk', async () => {
    const { document, payload } = await store('flaky.md', `${HANDBOOK}\nFlaky edition.`);
    const flaky = new ScriptedEmbedder(local, 1);
    const { step } = await pipeline(flaky);
    await step('parse', payload);
    await step('chunk', payload);
    await expect(step('embed', payload, 1)).rejects.toThrow('ECONNRESET');
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'processing', stage: 'embed', error: null });
    expect(await artifactKinds(document.id)).toEqual(['chunks', 'parsed']);

    await step('embed', payload, 2);
    await step('index', payload);
    expect(await attemptsOf(document.id)).toEqual([
      'chunk#1:completed',
      'embed#1:failed',
      'embed#2:completed',
      'index#1:completed',
      'parse#1:completed',
    ]);
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'indexed' });
  });

  it('fails the document with a readable reason on a permanent error, and on the last attempt of a transient one', async () => {
    const blank = await store('blank.md', ' \n\n\t ');
    const { step, metrics } = await pipeline();
    await expect(step('parse', blank.payload)).rejects.toMatchObject({ code: ErrorCode.EmptyDocument, permanent: true });
    expect(await documents.findById(TENANT, blank.document.id)).toMatchObject({ status: 'failed', error: 'the document contains no text' });

    const doomed = await store('doomed.md', `${HANDBOOK}\nDoomed edition.`);
    const down = await pipeline(new ScriptedEmbedder(local, Number.POSITIVE_INFINITY));
    await down.step('parse', doomed.payload);
    await down.step('chunk', doomed.payload);
    await expect(down.step('embed', doomed.payload, 5, true)).rejects.toThrow('ECONNRESET');
    // The reason names the step and where to look, never the error's own text.
    const failed = await documents.findById(TENANT, doomed.document.id);
    expect(failed).toMatchObject({ status: 'failed', error: expect.stringMatching(/^the embed step failed with an internal error \(the ingestion log has it under .+\)$/) as unknown });
    expect(failed?.error).not.toContain('ECONNRESET');
    expect(await artifactKinds(doomed.document.id)).toEqual([]);
    expect((await metrics.documentsTotal.get()).values.filter((value) => value.value > 0).map((value) => value.labels.outcome)).toEqual(['failed']);
  });

  it('cancel mid-embed really stops the work and leaves no partial chunks', async () => {
    const { document, payload } = await store('cancel.md', `${HANDBOOK.repeat(6)}\nCancel edition.`);
    let release: () => void = () => undefined;
    const slow = new ScriptedEmbedder(local);
    slow.gate = new Promise((resolve) => (release = resolve));
    const { step } = await pipeline(slow);
    await step('parse', payload);
    await step('chunk', payload);
    const embedding = step('embed', payload);
    await waitFor(() => slow.calls > 0, { timeoutMs: 5000, description: 'the embed step to start' });

    expect(await documents.cancel(TENANT, document.id)).toBe(true);
    // Give the cancellation watch time to notice before the in-flight batch returns.
    await new Promise((resolve) => setTimeout(resolve, 400));
    release();
    await expect(embedding).resolves.toBeUndefined();
    const callsAtStop = slow.calls;
    await step('index', payload);

    expect(slow.calls).toBe(callsAtStop);
    expect(callsAtStop).toBeLessThanOrEqual(2);
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'cancelled', chunkCount: 0 });
    expect(await chunkCount(document.id)).toBe(0);
    expect(await artifactKinds(document.id)).toEqual([]);
    expect(await queued(stageJobId('index', document.id, payload.sha256))).toBeUndefined();
  });

  it('ignores re-delivered, replaced, deleted and foreign-tenant jobs', async () => {
    const { document, payload } = await store('redeliver.md', `${HANDBOOK}\nRedelivery edition.`);
    const spy = new ScriptedEmbedder(local);
    const { step } = await pipeline(spy);
    for (const stage of ['parse', 'chunk', 'embed', 'index'] as const) await step(stage, payload);
    const calls = spy.calls;
    await step('parse', payload);
    await step('embed', payload);
    await step('embed', { ...payload, sha256: 'f'.repeat(64) });
    await step('parse', { ...payload, tenantId: 'intruder' });
    expect(spy.calls).toBe(calls);
    expect(await attemptsOf(document.id)).toHaveLength(4);

    expect(await documents.delete(TENANT, document.id)).toBe(true);
    await expect(step('index', payload)).resolves.toBeUndefined();
  });

  it('re-drives a successor job an earlier attempt left failed under its id (the jammed chain), without counting anything', async () => {
    const { document, payload } = await store('jammed.md', `${HANDBOOK}\nJammed edition.`);
    const { step } = await pipeline();
    await step('parse', payload);
    await step('chunk', payload);
    // In a queue of its own: every attempt of the embed job failed during a Postgres outage, and
    // BullMQ keeps the failed job for days under the deterministic id the chain adds.
    const own = createTestRedisPrefix('jammed');
    const ownClient = new BullMqClient({ url: own.url, prefix: own.prefix, requestTimeoutMs: 5000 });
    try {
      const ownQueue = ownClient.unwrap<QueueRegistry>().queue(QueueName.Ingestion);
      const embedJobId = stageJobId('embed', document.id, payload.sha256);
      await ownQueue.add(JobName.EmbedDocument, payload, { jobId: embedJobId });
      await failNextJob(ownQueue, own, 'SERVICE_UNAVAILABLE: the database (Postgres) is unavailable; retry shortly');

      // The chunk step runs again (a re-delivery, or a reconciler re-running it): it must not hand
      // over to the dead job.
      const again = await pipeline(local, 0, { client: ownClient, url: own.url });
      await again.step('chunk', payload, 1);
      expect(await ownQueue.getJobState(embedJobId)).toBe('waiting');
      expect((await ownQueue.getJob(embedJobId))?.data).toMatchObject(payload);
      await again.step('embed', payload);
      await again.step('index', payload);
    } finally {
      await ownClient.close();
      await own.cleanup();
    }
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'indexed', error: null });
    expect(await attemptsOf(document.id)).toEqual(['chunk#1:completed', 'chunk#1:completed', 'embed#1:completed', 'index#1:completed', 'parse#1:completed']);
    expect(await new ProcessingJobRepository(dataSource).failures(TENANT, document.id, 'embed')).toEqual({ count: 0, lastError: null });
  });

  it('an outage on the last attempt interrupts the step without failing the document or counting against it', async () => {
    const { document, payload } = await store('outage.md', `${HANDBOOK}\nOutage edition.`);
    const postgresGone = () => new Error('Connection terminated unexpectedly');
    const down = await pipeline(new ScriptedEmbedder(local, Number.POSITIVE_INFINITY, postgresGone));
    await down.step('parse', payload);
    await down.step('chunk', payload);
    await expect(down.step('embed', payload, 5, true)).rejects.toMatchObject({ code: ErrorCode.ServiceUnavailable, message: 'the database (Postgres) is unavailable; retry shortly' });
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'processing', stage: 'embed', error: null });
    expect(await artifactKinds(document.id)).toEqual(['chunks', 'parsed']);

    // Redis goes away after the embed step stored its output, while it hands over to the index step.
    const broker = await PrivateRedis.start();
    const brokerClient = new BullMqClient({ url: broker.url, prefix: 'outage', requestTimeoutMs: 2000 });
    const brokerQueue = brokerClient.unwrap<QueueRegistry>().queue(QueueName.Ingestion);
    try {
      await brokerQueue.getJobCounts();
      await broker.kill();
      const cut = await pipeline(local, 0, { client: brokerClient, url: broker.url });
      await expect(cut.step('embed', payload, 5, true)).rejects.toMatchObject({ code: ErrorCode.ServiceUnavailable });
    } finally {
      // Back up and reconnected first: closed while Redis is down, the connection keeps retrying.
      await broker.restartEmpty();
      await waitFor(() => brokerQueue.getJobCounts().then(() => true), { timeoutMs: 10_000, description: 'the client to reconnect' });
      await brokerClient.close();
      await broker.stop();
    }
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'processing', error: null });
    expect(await artifactKinds(document.id)).toEqual(['chunks', 'embeddings', 'parsed']);
    expect(await attemptsOf(document.id)).toEqual(['chunk#1:completed', 'embed#5:completed', 'embed#5:interrupted', 'parse#1:completed']);
    expect(await new ProcessingJobRepository(dataSource).failures(TENANT, document.id, 'embed')).toEqual({ count: 0, lastError: null });
  }, 30_000);

  it('a worker shutting down interrupts the steps still running, without failing or counting', async () => {
    const { document, payload } = await store('shutdown.md', `${HANDBOOK}\nShutdown edition.`);
    let release: () => void = () => undefined;
    const slow = new ScriptedEmbedder(local);
    const { step, runner } = await pipeline(slow);
    await step('parse', payload);
    await step('chunk', payload);
    slow.gate = new Promise((resolve) => (release = resolve));
    const embedding = step('embed', payload, 5, true);
    await waitFor(() => slow.calls > 0, { timeoutMs: 5000, description: 'the embed step to start' });

    runner.beforeApplicationShutdown();
    release();
    await expect(embedding).rejects.toMatchObject({ code: ErrorCode.ServiceUnavailable });
    expect(await documents.findById(TENANT, document.id)).toMatchObject({ status: 'processing', error: null });
    expect(await attemptsOf(document.id)).toEqual(['chunk#1:completed', 'embed#5:interrupted', 'parse#1:completed']);
  });

  it('commits the steps\' history with the index write, so a kill right after the commit cannot lose it', async () => {
    const small = await store('atomic-history.md', `${HANDBOOK}\nAtomic history edition.`);
    const { stages } = await pipeline(local, 64 * 1024);
    expect(await documents.enterStage(TENANT, small.document.id, small.payload.sha256, 'parse', 0)).toBe(true);
    const signal = new AbortController().signal;
    const parsed = await stages.parse.produce((await documents.findById(TENANT, small.document.id))!, signal);
    const chunks = await stages.chunk.produce(parsed, signal);
    const vectors = await stages.embed.produce(chunks, signal, () => Promise.resolve());
    const history = (['parse', 'chunk', 'embed', 'index'] as const).map((kind) => ({
      tenantId: TENANT,
      documentId: small.document.id,
      queueJobId: 'ingest-atomic',
      kind,
      attempt: 1,
      startedAt: new Date(),
      status: 'completed' as const,
    }));
    // Nothing further runs after the write: what a worker killed at that moment leaves behind.
    expect(await stages.index.write(small.payload, chunks, vectors, signal, history)).toBe(true);
    expect(await documents.findById(TENANT, small.document.id)).toMatchObject({ status: 'indexed' });
    expect(await attemptsOf(small.document.id)).toEqual(['chunk#1:completed', 'embed#1:completed', 'index#1:completed', 'parse#1:completed']);

    // A write that does not commit (the document was cancelled meanwhile) records nothing either.
    const cancelled = await store('cancelled-history.md', `${HANDBOOK}\nCancelled history edition.`);
    expect(await documents.enterStage(TENANT, cancelled.document.id, cancelled.payload.sha256, 'parse', 0)).toBe(true);
    expect(await documents.cancel(TENANT, cancelled.document.id)).toBe(true);
    const cancelledHistory = history.map((attempt) => ({ ...attempt, documentId: cancelled.document.id }));
    expect(await stages.index.write(cancelled.payload, chunks, vectors, signal, cancelledHistory)).toBe(false);
    expect(await attemptsOf(cancelled.document.id)).toEqual([]);
  });

  it('completes the history of a document indexed without one (by an earlier version) when a job is re-delivered', async () => {
    const small = await store('killed-inline.md', `${HANDBOOK}\nKilled inline edition.`);
    const { first, stages, metrics } = await pipeline(local, 64 * 1024);
    // What an earlier version's inline first job did before its worker was killed: every step, up to a commit without history.
    expect(await documents.enterStage(TENANT, small.document.id, small.payload.sha256, 'parse', 0)).toBe(true);
    const signal = new AbortController().signal;
    const parsed = await stages.parse.produce((await documents.findById(TENANT, small.document.id))!, signal);
    const chunks = await stages.chunk.produce(parsed, signal);
    const vectors = await stages.embed.produce(chunks, signal, () => Promise.resolve());
    await stages.index.write(small.payload, chunks, vectors, signal, []);
    expect(await documents.findById(TENANT, small.document.id)).toMatchObject({ status: 'indexed' });
    expect(await attemptsOf(small.document.id)).toEqual([]);

    await first(small.payload, 'ingest-redelivered');
    expect(await attemptsOf(small.document.id)).toEqual(['chunk#1:completed', 'embed#1:completed', 'index#1:completed', 'parse#1:completed']);
    expect(await queued(stageJobId('analyze', small.document.id, small.payload.sha256))).toBeDefined();
    expect((await metrics.documentsTotal.get()).values.filter((value) => value.value > 0)).toEqual([expect.objectContaining({ labels: { outcome: 'indexed' }, value: 1 })]);
    // A further re-delivery finds the history complete and adds nothing.
    await first(small.payload, 'ingest-redelivered');
    expect(await attemptsOf(small.document.id)).toHaveLength(4);

    // The same for the index job of a document that runs one job per step.
    const big = await store('killed-staged.md', `${HANDBOOK}\nKilled staged edition.`);
    const staged = await pipeline();
    for (const stage of ['parse', 'chunk', 'embed'] as const) await staged.step(stage, big.payload);
    const loaded = (await documents.findById(TENANT, big.document.id))!;
    await staged.stages.index.run({ document: loaded, payload: big.payload, signal, reportProgress: () => Promise.resolve(), commitHistory: () => [] });
    expect(await attemptsOf(big.document.id)).toEqual(['chunk#1:completed', 'embed#1:completed', 'parse#1:completed']);
    await staged.step('index', big.payload);
    expect(await attemptsOf(big.document.id)).toEqual(['chunk#1:completed', 'embed#1:completed', 'index#1:completed', 'parse#1:completed']);
  });

  it('embeds each distinct text once per model, across documents and processes (embedding cache)', async () => {
    const counting = new ScriptedEmbedder(local);
    const cached = new CachedEmbedder(counting, new EmbeddingCacheRepository(dataSource));
    const shared = 'Shared paragraph about the pension plan and how contributions are matched.';
    await expect(cached.embed([shared, shared, 'unique one'])).resolves.toHaveLength(3);
    expect(counting.calls).toBe(1);
    // A fresh process (empty memory tier) still finds the vectors in Postgres.
    const freshProcess = new CachedEmbedder(counting, new EmbeddingCacheRepository(dataSource));
    const [again] = await freshProcess.embed([shared]);
    expect(counting.calls).toBe(1);
    expect(Array.from(again)).toEqual(Array.from(local.embedOne(shared)));
    expect(freshProcess.hits).toBe(1);
  });
  // Last in this file: it switches the schema's embedding version.
  it('re-embeds the corpus with a new model in the background and switches in one step', async () => {
    const before = await store('before-switch.md', `${HANDBOOK}\nBefore the switch.`);
    const { step } = await pipeline();
    for (const stage of ['parse', 'chunk', 'embed', 'index'] as const) await step(stage, before.payload);

    // The operator configures a smaller model: it becomes the building version, and a job is queued.
    const jobs = new JobClient(client);
    const small = new LocalHashingEmbedder({ dimensions: 32 });
    const target = new EmbeddingTargetsService(dataSource, loadIngestionConfig({ EMBEDDING_DIMENSIONS: '32' }), jobs, logger, (spec) =>
      spec.dimensions === 32 ? small : local,
    );
    await target.onApplicationBootstrap();
    const versions = await dataSource.query<Array<{ id: number; model: string; state: string }>>('SELECT id, model, state FROM embedding_versions ORDER BY id');
    expect(versions.map((version) => [version.model, version.state])).toEqual([
      ['local-hash-v1-64', 'active'],
      ['local-hash-v1-32', 'building'],
    ]);
    expect((await queued(`reembed-${versions[1].id}`))?.data).toEqual({ versionId: versions[1].id });

    // While it builds, new documents get both vectors.
    const during = await store('during-switch.md', `${HANDBOOK}\nDuring the switch.`);
    const embed = new EmbedStage(dataSource, target);
    const index = new IndexStage(dataSource, target, embed, new ServiceMetrics('ingestion'));
    const runner = new StageRunner(dataSource, jobs, logger, new ServiceMetrics('ingestion'), 0, false, { DATABASE_URL: schema.url, REDIS_URL: redis.url });
    for (const stage of [new ParseStage(dataSource, new IsolatedDocumentParser({ timeoutMs: 20_000, maxHeapMb: 256, maxDecompressedBytes: 1 << 26 })), new ChunkStage(dataSource, new DocumentChunker(tokens, { chunkSizeTokens: 40, chunkOverlapTokens: 8 })), embed, index]) {
      await runner.run(stage, { payload: during.payload, queueJobId: `switch-${stage.name}`, attempt: 1, isFinalAttempt: false });
    }
    const [{ missing }] = await dataSource.query<Array<{ missing: number }>>(
      'SELECT count(*)::int AS missing FROM chunks c WHERE c.document_id = $1 AND NOT EXISTS (SELECT 1 FROM chunk_vectors v WHERE v.chunk_id = c.id)',
      [during.document.id],
    );
    expect(missing).toBe(0);

    await new ReembedCorpusJob(dataSource, target, logger).handle({ versionId: versions[1].id });

    const after = await dataSource.query<Array<{ model: string; state: string }>>('SELECT model, state FROM embedding_versions ORDER BY id');
    expect(after.map((version) => [version.model, version.state])).toEqual([
      ['local-hash-v1-64', 'retired'],
      ['local-hash-v1-32', 'active'],
    ]);
    const models = await dataSource.query<Array<{ embedding_model: string; bytes: number }>>(
      'SELECT DISTINCT embedding_model, length(embedding) AS bytes FROM chunks',
    );
    expect(models).toEqual([{ embedding_model: 'local-hash-v1-32', bytes: 32 * 4 }]);
    expect((await dataSource.query<Array<{ count: string }>>('SELECT count(*) FROM chunk_vectors'))[0].count).toBe('0');
  });
});
