import { spawn } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalHashingEmbedder } from '@quarry/llm';
import { createDataSource, runMigrationsExclusively, vectorToBytes } from '@quarry/persistence';
import { createTestRedisPrefix, createTestSchema, freePort, repoRoot, waitFor } from '@quarry/testing';
import { BENCH_TENANT, scifactChunkPages } from './scifact-chunks';

export interface ServiceMemory {
  chunks: number;
  /** Resident memory once the index is loaded and the service idle. */
  rss: number;
  /** Peak resident memory of the process (VmHWM): what the container limit must hold. */
  peak: number;
}

const DIMENSIONS = 384;

/**
 * The retrieval service as a real process (dist/), booted on a schema holding `copies` × SciFact
 * as indexed documents — written straight into Postgres, not through ingestion — so it loads them
 * into its index at boot exactly as a replica does. Reads its resident memory from /proc.
 */
export async function retrievalServiceMemory(copies: number): Promise<ServiceMemory> {
  const schema = await createTestSchema('benchindexmem');
  const redis = createTestRedisPrefix('benchindexmem');
  try {
    const chunks = await storeCorpus(schema, copies);
    const port = await freePort();
    const child = spawn(process.execPath, [join(repoRoot(), 'dist', 'apps', 'retrieval', 'src', 'main.js')], {
      cwd: repoRoot(),
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        DATABASE_URL: schema.url,
        DATABASE_SCHEMA: schema.schema,
        REDIS_URL: redis.url,
        REDIS_PREFIX: redis.prefix,
        HOST: '127.0.0.1',
        HTTP_PORT: String(port),
        EMBEDDING_DIMENSIONS: String(DIMENSIONS),
      },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.status === 200, {
        timeoutMs: 120_000,
        intervalMs: 200,
        description: 'the retrieval service to load its index',
      });
      await sleep(3000); // idle a moment: boot garbage collected, graphs finished
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
      return { chunks, rss: kib('VmRSS'), peak: kib('VmHWM') };
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  } finally {
    await redis.cleanup();
    await schema.drop();
  }
}

/** Writes the corpus as indexed documents with one chunk each (multi-row inserts); returns the chunk count. */
async function storeCorpus(schema: { url: string; schema: string }, copies: number): Promise<number> {
  const dataSource = await createDataSource({ url: schema.url, schema: schema.schema, poolMax: 2, statementTimeoutMs: 60_000, applicationName: 'bench-index' }).initialize();
  try {
    await runMigrationsExclusively(dataSource);
    await dataSource.query('INSERT INTO tenants (id, name) VALUES ($1, $1)', [BENCH_TENANT]);
    const model = new LocalHashingEmbedder({ dimensions: DIMENSIONS }).model;
    let stored = 0;
    for await (const page of scifactChunkPages(copies, { bytes: 0 })) {
      const ids = page.map(() => randomUUID());
      await dataSource.query(
        `INSERT INTO documents (id, tenant_id, filename, media_type, size_bytes, sha256, status, chunk_count, indexed_at)
         SELECT id, $1, filename, 'text/markdown', size, sha, 'indexed', 1, now() FROM unnest($2::uuid[], $3::text[], $4::int[], $5::text[]) AS d(id, filename, size, sha)`,
        [BENCH_TENANT, ids, page.map((chunk) => chunk.filename), page.map((chunk) => Buffer.byteLength(chunk.text)), ids.map((id) => createHash('sha256').update(id).digest('hex'))],
      );
      await dataSource.query(
        `INSERT INTO chunks (document_id, tenant_id, ordinal, text, token_count, embedding, embedding_model)
         SELECT id, $1, 0, text, 300, embedding, $2 FROM unnest($3::uuid[], $4::text[], $5::bytea[]) AS c(id, text, embedding)`,
        [BENCH_TENANT, model, ids, page.map((chunk) => chunk.text), page.map((chunk) => vectorToBytes(chunk.vector))],
      );
      stored += page.length;
    }
    return stored;
  } finally {
    await dataSource.destroy();
  }
}
