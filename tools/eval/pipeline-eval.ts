import { JobName } from '@quarry/contracts';
import { type BeirDataset, beirFilename, rankDocuments } from '@quarry/eval';
import { type ServiceStack, waitFor } from '@quarry/testing';
import type { JobClient } from '@quarry/transport';
import { Client } from 'pg';
import type { RetrievalMode } from './in-process-eval';

const TENANT = 'eval';
const BATCH = 100;

/**
 * Ingests a BEIR corpus through the real pipeline (gateway batch uploads → queues → ingestion), one
 * document per corpus entry as `# title\n\ntext`, and returns Quarry document id → corpus id.
 */
export async function ingestThroughPipeline(stack: ServiceStack, dataset: BeirDataset, database: { url: string; schema: string }): Promise<Map<string, string>> {
  const corpusIdOf = new Map<string, string>();
  const auth = { authorization: `Bearer ${await stack.createApiKey(TENANT, 'write')}` };
  for (let start = 0; start < dataset.corpus.length; start += BATCH) {
    const batch = dataset.corpus.slice(start, start + BATCH);
    const form = new FormData();
    for (const document of batch) {
      const body = document.title ? `# ${document.title}\n\n${document.text}\n` : `${document.text}\n`;
      form.append('file', new Blob([body]), beirFilename(document.id));
    }
    const response = await fetch(`${stack.gatewayUrl}/api/documents/batch`, { method: 'POST', body: form, headers: auth });
    if (response.status !== 202) throw new Error(`batch upload failed: ${response.status} ${await response.text()}`);
    const { documents } = (await response.json()) as { documents: Array<{ filename: string; documentId?: string; error?: { message: string } }> };
    for (const result of documents) {
      if (result.documentId) corpusIdOf.set(result.documentId, result.filename.replace(/\.md$/, ''));
    }
  }
  const db = new Client({ connectionString: database.url, options: `-c search_path=${database.schema}` });
  await db.connect();
  try {
    await waitFor(
      async () => {
        const { rows } = await db.query<{ pending: string }>(`SELECT count(*)::text AS pending FROM documents WHERE status IN ('queued', 'processing')`);
        return rows[0].pending === '0';
      },
      { timeoutMs: 10 * 60_000, intervalMs: 250, description: 'the corpus to be ingested' },
    );
  } finally {
    await db.end();
  }
  return corpusIdOf;
}

/** Runs one query through the retrieval service and returns corpus ids, best first (chunks folded into documents). */
export async function retrieveThroughService(jobs: JobClient, query: string, mode: RetrievalMode, corpusIdOf: Map<string, string>): Promise<string[]> {
  const reply = await jobs.request(JobName.SearchChunks, { tenantId: TENANT, query, topK: 200, mode });
  return rankDocuments(reply.hits, (hit) => corpusIdOf.get(hit.documentId));
}
