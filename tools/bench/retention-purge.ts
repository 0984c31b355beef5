/**
 * npm run bench:retention — retention.purge on a seeded database (issue 12): the five services as
 * processes on the local Postgres and Redis (own schema and prefix, removed afterwards). Seeds, per
 * BENCH_SCALE (100,000): the tenant's query log (half 60 days old), another tenant's (all old, to
 * be kept), finished processing-job records (half old), index changes (half 3 days old), expired
 * L3 cache entries, unused embedding-cache rows and old cleared alerts; then submits one
 * retention.purge {olderThanDays: 30} through POST /api/tasks and prints the rows each step removed,
 * the rows left, the task's run time, and GET /api/documents latency before and during the purge.
 */
import { Client } from 'pg';
import { startIsolatedStack, waitFor } from '@quarry/testing';
import { indexedCount, uploadInBatches } from './batch-upload';
import { percentile } from './stats';

const SCALE = Number(process.env.BENCH_SCALE ?? 100_000);

interface TaskReply {
  id: string;
  status: string;
  result: Record<string, number> | null;
  usage: { durationMs: number } | null;
  error: string | null;
}

async function main(): Promise<void> {
  const { stack, schema, stop } = await startIsolatedStack('benchretention', { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' });
  const sql = new Client({ connectionString: schema.url });
  try {
    await sql.connect();
    await sql.query(`SET search_path TO "${schema.schema}"`);
    const headers = { authorization: `Bearer ${await stack.createApiKey('default', 'write')}` };
    await uploadInBatches(stack.gatewayUrl, headers, [{ id: 'handbook', title: 'Handbook', text: 'The vault is behind the third door.' }], 1, 1);
    await waitFor(async () => (await indexedCount(stack.gatewayUrl, headers)) === 1, { timeoutMs: 60_000, description: 'the document to be indexed' });
    const [{ id: documentId }] = (await sql.query<{ id: string }>(`SELECT id FROM documents WHERE tenant_id = 'default'`)).rows;

    console.log(`seeding (scale ${SCALE}) …`);
    const half = Math.floor(SCALE / 2);
    const seed = async (what: string, text: string, values: unknown[] = []) => {
      const started = performance.now();
      const { rowCount } = await sql.query(text, values);
      console.log(`  ${what}: ${rowCount} rows (${((performance.now() - started) / 1000).toFixed(1)} s)`);
    };
    const queryLog = (tenant: string, rows: number, ageDays: (n: string) => string) =>
      `INSERT INTO query_log (tenant_id, question, hit_count, citation_count, generator, retrieval_ms, generation_ms, total_ms, created_at)
       SELECT '${tenant}', 'question ' || n, 3, 1, 'extractive', 1, 1, 2, now() - make_interval(days => ${ageDays('n')}) FROM generate_series(1, ${rows}) AS n`;
    await seed("the tenant's query log", queryLog('default', SCALE, (n) => `CASE WHEN ${n} <= ${half} THEN 60 ELSE 1 END`));
    await seed("another tenant's query log (kept: the task purges its own tenant's)", queryLog('other', half, () => '60'));
    await seed(
      'processing-job records',
      `INSERT INTO processing_jobs (tenant_id, document_id, queue_job_id, kind, attempt, status, started_at, finished_at)
       SELECT 'default', $1, 'bench-' || n, 'parse', 1, 'completed', t, t FROM generate_series(1, ${SCALE}) AS n,
              LATERAL (SELECT now() - make_interval(days => CASE WHEN n <= ${half} THEN 60 ELSE 1 END) AS t) AS at`,
      [documentId],
    );
    // The per-row corpus-version trigger (constraint trigger, 100,000 updates of one tenant row) made this seed take 90 s; it has nothing to do with the purge.
    await sql.query(`SET session_replication_role = replica`);
    await seed('index changes', `INSERT INTO index_changes (tenant_id, document_id, kind, created_at) SELECT 'default', $1, 'upsert', now() - CASE WHEN n <= ${half} THEN interval '3 days' ELSE interval '1 minute' END FROM generate_series(1, ${SCALE}) AS n`, [documentId]);
    await sql.query(`SET session_replication_role = DEFAULT`);
    await seed('L3 cache entries (half expired)', `INSERT INTO cache_entries (kind, key, value, bytes, expires_at) SELECT 'answer', 'bench-' || n, '\\x00', 1, now() + CASE WHEN n <= ${half} THEN interval '-1 hour' ELSE interval '1 hour' END FROM generate_series(1, ${SCALE}) AS n`);
    await seed('embedding-cache rows no chunk uses (half old)', `INSERT INTO embedding_cache (model, content_sha256, vector, created_at) SELECT 'bench', lpad(to_hex(n), 64, '0'), '\\x00', now() - make_interval(days => CASE WHEN n <= ${half} THEN 60 ELSE 1 END) FROM generate_series(1, ${SCALE}) AS n`);
    await seed(
      'cleared resource alerts (half old)',
      `INSERT INTO system_alerts (service, replica, pid, resource, level, value, threshold, raised_at, cleared_at, cleared_value, cleared_by)
       SELECT 'ingestion', 'bench', 1, 'cpu', 'warning', 0.8, 0.7, t - interval '1 minute', t, 0.1, 'ok' FROM generate_series(1, ${Math.floor(SCALE / 100)}) AS n,
              LATERAL (SELECT now() - make_interval(days => CASE WHEN n <= ${Math.floor(SCALE / 200)} THEN 60 ELSE 1 END) AS t) AS at`,
    );
    await sql.query('ANALYZE');

    const sample = async (stopWhen: () => boolean, limit = 300): Promise<number[]> => {
      const times: number[] = [];
      while (!stopWhen() && times.length < limit) {
        const started = performance.now();
        await fetch(`${stack.gatewayUrl}/api/documents?limit=20`, { headers }).then((response) => response.arrayBuffer());
        times.push(performance.now() - started);
      }
      return times;
    };
    const before = await sample(() => false);

    const submitted = (await (await fetch(`${stack.gatewayUrl}/api/tasks`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ type: 'retention.purge', params: { olderThanDays: 30 } }) })).json()) as TaskReply;
    let task: TaskReply = submitted;
    let ended = false;
    const during = sample(() => ended, 100_000);
    task = await waitFor(async () => {
      const current = (await (await fetch(`${stack.gatewayUrl}/api/tasks/${submitted.id}`, { headers })).json()) as TaskReply;
      return current.status === 'completed' || current.status === 'failed' ? current : undefined;
    }, { timeoutMs: 600_000, intervalMs: 200, description: 'the purge to end' });
    ended = true;
    const duringTimes = await during;
    if (task.status !== 'completed') throw new Error(`the purge failed: ${task.error}`);

    const left = async (table: string, where = 'true') => Number((await sql.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} WHERE ${where}`)).rows[0].n);
    console.log(`\nretention.purge ran ${((task.usage?.durationMs ?? 0) / 1000).toFixed(1)} s; rows removed: ${JSON.stringify(task.result)}`);
    console.log(
      `rows left: query_log default ${await left('query_log', `tenant_id = 'default'`)} (expected ${SCALE - half}), other tenant ${await left('query_log', `tenant_id = 'other'`)} (expected ${half}); ` +
        `processing_jobs ${await left('processing_jobs')}; index_changes ${await left('index_changes')}; cache_entries ${await left('cache_entries')}; embedding_cache ${await left('embedding_cache', `model = 'bench'`)}; system_alerts ${await left('system_alerts', `replica = 'bench'`)}`,
    );
    const fmt = (values: number[], p: number) => percentile(values, p).toFixed(2);
    console.log(`GET /api/documents: p50 ${fmt(before, 50)} ms, p95 ${fmt(before, 95)} ms before; p50 ${fmt(duringTimes, 50)} ms, p95 ${fmt(duringTimes, 95)} ms during the purge (${duringTimes.length} requests)`);
  } finally {
    await sql.end().catch(() => undefined);
    await stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
