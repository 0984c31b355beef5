import type { TaskParamsOf } from '@quarry/contracts';
import type { ChunkRepository } from '@quarry/persistence';
import { secondsSince } from '../elapsed';
import type { TaskHandler, TaskRunContext } from '../task-handler';

/** Documents whose index changes are logged in one statement. */
const BATCH = 500;

export interface CorpusReindexResult {
  /** The tenant's indexed documents logged for reloading, and their chunks. */
  documents: number;
  chunks: number;
  seconds: number;
}

/**
 * `corpus.reindex`: rebuilds the tenant's search index from Postgres. The retrieval replicas hold
 * in-memory indexes fed by the `index_changes` feed, each following it on its own, so the way to
 * reach all of them — however many, including those down right now — is the feed itself: an
 * upsert change for each of the tenant's indexed documents, and each replica replaces those
 * documents' chunks with what Postgres holds (and the tenant's corpus version moves, ending its
 * cached results). Batches of documents in id order; a cancel between batches keeps what was logged.
 */
export class CorpusReindexTask implements TaskHandler<'corpus.reindex'> {
  readonly type = 'corpus.reindex';

  constructor(private readonly chunks: ChunkRepository) {}

  async run(_params: TaskParamsOf<'corpus.reindex'>, context: TaskRunContext): Promise<CorpusReindexResult> {
    const started = performance.now();
    const totals = await this.chunks.indexedTotals(context.tenantId);
    let logged = 0;
    let after: string | undefined;
    for (;;) {
      context.signal.throwIfAborted();
      const batch = await this.chunks.requeueIndexedDocuments(context.tenantId, { after, limit: BATCH });
      logged += batch.length;
      context.progress(totals.documents === 0 ? 100 : Math.min(100, (logged / totals.documents) * 100), `${logged} of ${totals.documents} documents sent to the retrieval replicas`);
      if (batch.length < BATCH) break;
      after = batch[batch.length - 1];
    }
    return { documents: logged, chunks: totals.chunks, seconds: secondsSince(started) };
  }
}
