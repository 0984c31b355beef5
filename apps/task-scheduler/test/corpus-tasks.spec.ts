import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobName, QueueName, type SubmitTaskRequest, type TaskView, ingestJobId } from '@quarry/contracts';
import { beirFilename, loadBeirDataset } from '@quarry/eval';
import { DocumentRepository, TaskRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { ServiceStack, type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema, repoRoot, waitFor } from '@quarry/testing';
import type { QueueRegistry } from '@quarry/transport';
import type { SchedulerConfig } from '../src/config';
import { startScheduler } from './start-scheduler';

const HANDBOOK = {
  vacation: '# Vacation\n\nEmployees receive 27 days of paid vacation per year. Unused vacation days carry over until March.\n',
  expenses: '# Expenses\n\nTravel expenses are reimbursed within 14 days when the receipts are uploaded to the finance portal.\n',
  security: '# Security\n\nLaptops must use full-disk encryption, and badges are worn visibly inside the office at all times.\n',
};
const BEIR_QUERIES = 4;
const BEIR_DISTRACTORS = 12;

/**
 * The corpus and document task types on real Postgres and Redis: the task-scheduler in this
 * process, ingestion and retrieval as real processes (built dist), each task submitted through the
 * task manager as the gateway submits it, and judged by what it did to the data and the index.
 */
describe('corpus.reindex, document.reanalyze, eval.run and corpus.reembed (task-scheduler with ingestion and retrieval processes)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let scheduler: RunningService<SchedulerConfig>;
  let stack: ServiceStack;
  let tasks: TaskRepository;
  let evalRoot: string;
  let ingestion: string;
  const ids: Record<string, string> = {};

  const sql = <T = Record<string, unknown>>(text: string, values: unknown[] = []) => scheduler.kit.dataSource.query<T[]>(text, values);

  async function upload(tenantId: string, filename: string, text: string): Promise<string> {
    const bytes = Buffer.from(text);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const { document } = await new DocumentRepository(scheduler.kit.dataSource).createOrFindLive({ tenantId, filename, mediaType: 'text/markdown', sha256, tags: [], folder: '/' }, bytes);
    await scheduler.kit.jobs.publish(JobName.IngestDocument, { tenantId, documentId: document.id, sha256 }, { jobId: ingestJobId(document.id, sha256) });
    return document.id;
  }

  /** A few judged SciFact test queries, their relevant abstracts and some others, as a BEIR folder of its own, uploaded into `tenantId` the way `npm run eval` uploads a corpus. */
  async function seedBeir(tenantId: string): Promise<void> {
    const scifact = loadBeirDataset(join(repoRoot(), '..', 'shared', 'data', 'ir', 'scifact'));
    const queries = scifact.queries.slice(0, BEIR_QUERIES);
    const relevant = new Set(queries.flatMap((query) => [...(scifact.qrels.get(query.id)?.keys() ?? [])]));
    const corpus = [...scifact.corpus.filter((document) => relevant.has(document.id)), ...scifact.corpus.filter((document) => !relevant.has(document.id)).slice(0, BEIR_DISTRACTORS)];
    const folder = join(evalRoot, 'scifact-mini');
    mkdirSync(join(folder, 'qrels'), { recursive: true });
    writeFileSync(join(folder, 'queries.jsonl'), queries.map((query) => JSON.stringify({ _id: query.id, text: query.text })).join('\n'));
    const qrels = queries.flatMap((query) => [...(scifact.qrels.get(query.id) ?? new Map<string, number>())].map(([documentId, score]) => `${query.id}\t${documentId}\t${score}`));
    writeFileSync(join(folder, 'qrels', 'test.tsv'), ['query-id\tcorpus-id\tscore', ...qrels].join('\n'));
    for (const document of corpus) await upload(tenantId, beirFilename(document.id), `# ${document.title}\n\n${document.text}\n`);
  }

  beforeAll(async () => {
    schema = await createTestSchema('corpustasks');
    redis = createTestRedisPrefix('corpustasks');
    const outside = mkdtempSync(join(tmpdir(), 'quarry-eval-outside-'));
    writeFileSync(join(outside, 'queries.jsonl'), readFileSync(join(repoRoot(), '..', 'shared', 'data', 'ir', 'scifact', 'queries.jsonl')));
    evalRoot = mkdtempSync(join(tmpdir(), 'quarry-eval-root-'));
    // A link inside the root that leads out of it: must be refused like `..`.
    symlinkSync(outside, join(evalRoot, 'escape'));
    mkdirSync(join(evalRoot, 'not-beir'));
    const database = { DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix };
    // In-process first: it migrates the schema before the other services boot against it.
    scheduler = await startScheduler({ ...database, EVAL_DATA_DIR: evalRoot });
    tasks = new TaskRepository(scheduler.kit.dataSource);
    stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix, env: { LOG_LEVEL: 'warn' } });
    [ingestion] = await Promise.all([stack.startReplica('ingestion'), stack.startReplica('retrieval')]);
    for (const [name, text] of Object.entries(HANDBOOK)) ids[name] = await upload('acme', `${name}.md`, text);
    ids.foreign = await upload('globex', 'secret.md', '# Secret\n\nThe globex launch codes are kept in the blue binder.\n');
    await seedBeir('beir');
    await waitFor(async () => (await sql<{ pending: number }>(`SELECT count(*)::int AS pending FROM documents WHERE status <> 'indexed'`))[0].pending === 0, {
      timeoutMs: 90_000,
      description: 'every seeded document to be indexed',
    });
  }, 180_000);

  afterAll(async () => {
    await stack?.stop();
    await scheduler?.close();
    await redis?.cleanup();
    await schema?.drop();
    if (evalRoot) rmSync(evalRoot, { recursive: true, force: true });
  });

  const run = async (tenantId: string, type: SubmitTaskRequest['type'], params: Record<string, unknown>, timeoutMs = 30_000): Promise<TaskView> => {
    const { task } = await scheduler.kit.jobs.request(JobName.SubmitTask, { tenantId, type, params });
    let ended: TaskView | undefined;
    await waitFor(
      async () => {
        ended = await tasks.find(tenantId, task.id);
        return ended?.status === 'completed' || ended?.status === 'failed';
      },
      { timeoutMs, description: `the ${type} task to end` },
    );
    return ended as TaskView;
  };
  const search = (tenantId: string, query: string) => scheduler.kit.jobs.request(JobName.SearchChunks, { tenantId, query, topK: 10, mode: 'lexical' });
  const analysisOf = async (documentId: string) => (await sql<{ analysis: Record<string, unknown> }>('SELECT analysis FROM documents WHERE id = $1', [documentId]))[0].analysis;

  it("document.reanalyze analyses the given documents again; a foreign tenant's id fails the task and is not touched", async () => {
    await sql(`UPDATE documents SET analysis = '{"stale": true}'`);
    const one = await run('acme', 'document.reanalyze', { documentIds: [ids.vacation] });
    expect(one).toMatchObject({ status: 'completed', progress: 100, result: { documents: 1, reanalyzed: 1, byModel: 0, failedCount: 0, failed: [] } });
    expect(await analysisOf(ids.vacation)).toMatchObject({ method: 'heuristic', language: 'en', structure: 'flat' });
    expect(await analysisOf(ids.vacation)).not.toHaveProperty('stale');
    expect(await analysisOf(ids.expenses)).toEqual({ stale: true });

    const all = await run('acme', 'document.reanalyze', {});
    expect(all.result).toMatchObject({ documents: 3, reanalyzed: 3 });
    expect(await analysisOf(ids.security)).toMatchObject({ method: 'heuristic' });

    const foreign = await run('acme', 'document.reanalyze', { documentIds: [ids.vacation, ids.foreign] });
    // Refused before anything was queued, and not retried: the next run would fail the same way.
    expect(foreign).toMatchObject({ status: 'failed', error: `document ${ids.foreign} not found`, attempts: 1 });
    expect(await analysisOf(ids.foreign)).toEqual({ stale: true });
  }, 60_000);

  it("corpus.reindex rebuilds the tenant's documents on the retrieval replica from Postgres, and logs nothing for another tenant", async () => {
    // The replica has applied the document's own indexing first (it follows the feed on its own time)…
    await waitFor(async () => (await search('acme', 'travel expenses reimbursed')).hits.some((hit) => hit.documentId === ids.expenses), { timeoutMs: 10_000, description: 'the replica to serve the document' });
    // …then it is changed behind the index's back (no index change): the replica still serves the old text.
    await sql(`UPDATE chunks SET text = text || ' Quokkas guard the archive.' WHERE document_id = $1`, [ids.expenses]);
    expect((await search('acme', 'quokkas archive')).hits).toEqual([]);
    const changesOfGlobex = async () => (await sql<{ n: number }>(`SELECT count(*)::int AS n FROM index_changes WHERE tenant_id = 'globex'`))[0].n;
    const globexBefore = await changesOfGlobex();
    const [{ chunks }] = await sql<{ chunks: number }>(`SELECT count(*)::int AS chunks FROM chunks WHERE tenant_id = 'acme'`);

    const reindex = await run('acme', 'corpus.reindex', {});
    expect(reindex).toMatchObject({ status: 'completed', progress: 100, result: { documents: 3, chunks } });
    const found = await waitFor(async () => (await search('acme', 'quokkas archive')).hits.find((hit) => hit.documentId === ids.expenses), {
      timeoutMs: 10_000,
      description: 'the replica to serve the reloaded document',
    });
    expect(found.text).toContain('Quokkas guard the archive.');
    expect(await changesOfGlobex()).toBe(globexBefore);
  }, 60_000);

  it("eval.run scores the tenant's labelled questions through the retrieval service; a relevant document of another tenant fails it", async () => {
    const questions = [
      { question: 'How many days of paid vacation do employees get?', relevantDocumentIds: [ids.vacation] },
      { question: 'When are travel expenses reimbursed?', relevantDocumentIds: [ids.expenses] },
    ];
    const done = await run('acme', 'eval.run', { questions, recallK: 5 });
    expect(done).toMatchObject({ status: 'completed', progress: 100, result: { source: { kind: 'questions' }, mode: 'hybrid', queries: 2, recallK: 5, recallAtK: 1, queriesWithoutRelevantHit: 0 } });
    const result = done.result as { ndcgAt10: number; mrrAt10: number; perQuestion: unknown[] };
    expect(result.ndcgAt10).toBeGreaterThan(0.6);
    expect(result.mrrAt10).toBeGreaterThan(0.5);
    expect(result.perQuestion).toHaveLength(2);

    const foreign = await run('acme', 'eval.run', { questions: [{ question: 'launch codes', relevantDocumentIds: [ids.foreign] }] });
    expect(foreign).toMatchObject({ status: 'failed', error: `document ${ids.foreign} not found`, attempts: 1 });
  }, 60_000);

  it('eval.run scores a BEIR folder under EVAL_DATA_DIR, matching hits by their <corpus id>.md filename; paths outside it are refused', async () => {
    const done = await run('beir', 'eval.run', { dataset: 'scifact-mini', mode: 'hybrid', recallK: 10 });
    expect(done).toMatchObject({ status: 'completed', result: { source: { kind: 'beir', dataset: 'scifact-mini', split: 'test' }, queries: BEIR_QUERIES, recallK: 10 } });
    // A small corpus with every relevant abstract in it: most queries find theirs near the top.
    expect((done.result as { ndcgAt10: number }).ndcgAt10).toBeGreaterThan(0.5);

    for (const [dataset, error] of [
      ['../../etc', 'dataset "../../etc" is outside EVAL_DATA_DIR'],
      ['/etc', 'dataset "/etc" must be a path relative to EVAL_DATA_DIR'],
      ['escape', 'dataset "escape" is outside EVAL_DATA_DIR'],
      ['missing', 'dataset "missing" not found under EVAL_DATA_DIR'],
      ['not-beir', 'dataset "not-beir" is not a BEIR folder with queries.jsonl and qrels/test.tsv'],
    ]) {
      expect(await run('beir', 'eval.run', { dataset })).toMatchObject({ status: 'failed', error, attempts: 1 });
    }
  }, 60_000);

  it('corpus.reembed moves every chunk to the asked-for embedding with progress, then the retrieval replica serves it; bad input fails at once', async () => {
    expect(await run('acme', 'corpus.reembed', { model: 'text-embedding-3-large' })).toMatchObject({
      status: 'failed',
      attempts: 1,
      error: 'the local embedder (local-hash-v1-384) has no models to choose from: give dimensions only',
    });
    expect(await run('acme', 'corpus.reembed', {})).toMatchObject({ status: 'failed', attempts: 1, error: 'no re-embedding is under way: give model and/or dimensions to start one' });

    const [{ chunks }] = await sql<{ chunks: number }>('SELECT count(*)::int AS chunks FROM chunks');
    const done = await run('acme', 'corpus.reembed', { dimensions: 256 }, 60_000);
    expect(done).toMatchObject({ status: 'completed', progress: 100, result: { model: 'local-hash-v1-256', dimensions: 256, chunksEmbedded: chunks, alreadyActive: false } });
    expect(await sql(`SELECT model, state FROM embedding_versions WHERE state <> 'retired'`)).toEqual([{ model: 'local-hash-v1-256', state: 'active' }]);
    expect(await sql(`SELECT DISTINCT embedding_model FROM chunks`)).toEqual([{ embedding_model: 'local-hash-v1-256' }]);
    // The replica builds its index on the new vectors and swaps it in; searches keep working throughout.
    await waitFor(async () => (await scheduler.kit.jobs.request(JobName.SearchChunks, { tenantId: 'acme', query: 'paid vacation days', topK: 3, mode: 'dense' })).hits[0]?.documentId === ids.vacation, {
      timeoutMs: 20_000,
      description: 'dense search on the new embedding',
    });

    expect(await run('acme', 'corpus.reembed', { dimensions: 256 })).toMatchObject({ status: 'completed', result: { alreadyActive: true, chunksEmbedded: 0 } });
  }, 120_000);

  it('a cancelled document.reanalyze takes back the analyses it queued that have not started', async () => {
    // With ingestion gone, whatever the task queues waits.
    await stack.stopService(ingestion);
    const { task } = await scheduler.kit.jobs.request(JobName.SubmitTask, { tenantId: 'beir', type: 'document.reanalyze', params: {} });
    const ingestionQueue = scheduler.kit.jobs.proxy.unwrap<QueueRegistry>().queue(QueueName.Ingestion);
    const queuedByTask = async () => (await ingestionQueue.getJobs(['waiting', 'prioritized', 'delayed'])).filter((job) => job.id?.startsWith(`reanalyze-${task.id}-`));
    await waitFor(async () => (await queuedByTask()).length === 4, { timeoutMs: 10_000, description: 'the task to queue its first analyses' });
    expect(await scheduler.kit.jobs.request(JobName.CancelTask, { tenantId: 'beir', taskId: task.id })).toMatchObject({ status: 'cancelled' });
    await waitFor(async () => (await queuedByTask()).length === 0, { timeoutMs: 5000, description: 'the queued analyses to be taken back' });
    expect(await tasks.find('beir', task.id)).toMatchObject({ status: 'cancelled' });
  }, 60_000);
});
