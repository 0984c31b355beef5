import type { ServiceMetrics } from '@quarry/observability';
import { QdrantSearchIndex } from '@quarry/search';
import { type DeepCheck, METRICS, SERVICE_CONFIG, deepHealthChecks } from '@quarry/service-kit';
import type { RetrievalConfig } from '../config';
import { IndexSynchronizer } from './index-synchronizer.service';

/**
 * The replica catches up with the change feed every 2 s (IndexSynchronizer); an index whose last
 * successful catch-up is older than this is not current (Postgres unreachable, or the feed stuck).
 */
export const INDEX_STALE_AFTER_SECONDS = 30;

async function gaugeValue(gauge: ServiceMetrics['indexLastCatchUp']): Promise<number | undefined> {
  return (await gauge.get()).values[0]?.value;
}

/**
 * `index`: loaded, and current — from what the synchronizer already keeps: the served index and its
 * size, the last successful catch-up (quarry_index_last_catchup_timestamp_seconds) and the drift
 * the last reconciliation found and repaired (quarry_index_drift_chunks, reported, not a failure).
 */
export function indexCheck(synchronizer: IndexSynchronizer, metrics: ServiceMetrics, staleAfterSeconds = INDEX_STALE_AFTER_SECONDS): DeepCheck {
  return async () => {
    const served = synchronizer.served as IndexSynchronizer['served'] | undefined;
    if (!served) return { ok: false, error: 'index not loaded yet' };
    const { chunks, tenants } = served.index.stats();
    const lastCatchUp = await gaugeValue(metrics.indexLastCatchUp);
    const secondsAgo = lastCatchUp ? Math.max(0, Math.round(Date.now() / 1000 - lastCatchUp)) : null;
    const detail = { model: served.embedder.model, chunks, tenants, lastCatchUpSecondsAgo: secondsAgo, driftChunksAtLastReconciliation: (await gaugeValue(metrics.indexDriftChunks)) ?? 0 };
    if (secondsAgo === null || secondsAgo > staleAfterSeconds) {
      return { ok: false, error: `index not current: the change feed was last read ${secondsAgo ?? 'never'}${secondsAgo === null ? '' : ' s ago'} (more than ${staleAfterSeconds} s)`, detail };
    }
    return { ok: true, detail };
  };
}

/** `qdrant`: with VECTOR_BACKEND=qdrant, the served collection answers (an exact count of its points); else not selected. */
export function qdrantCheck(synchronizer: IndexSynchronizer, config: Pick<RetrievalConfig, 'VECTOR_BACKEND'>): DeepCheck {
  return async () => {
    if (config.VECTOR_BACKEND !== 'qdrant') return { ok: true, detail: `not selected (VECTOR_BACKEND=${config.VECTOR_BACKEND})` };
    const index = (synchronizer.served as IndexSynchronizer['served'] | undefined)?.index;
    if (!(index instanceof QdrantSearchIndex)) return { ok: false, error: 'the Qdrant index is not loaded yet' };
    return { ok: true, detail: { collection: index.collectionName, points: await index.count() } };
  };
}

/** Registers the retrieval replica's own deep checks: its index, and Qdrant when selected. */
export const retrievalDeepHealth = deepHealthChecks([IndexSynchronizer, METRICS, SERVICE_CONFIG], (health, synchronizer: IndexSynchronizer, metrics: ServiceMetrics, config: RetrievalConfig) => {
  health.add('index', indexCheck(synchronizer, metrics)).add('qdrant', qdrantCheck(synchronizer, config));
});
