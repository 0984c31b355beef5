import type { Logger, ServiceMetrics } from '@quarry/observability';
import type { ChunkRepository, PendingDocument } from '@quarry/persistence';
import { TimeSlicer } from '@quarry/search';
import { type IndexTarget, reloadDocuments } from './index-target';

export interface ReconciliationReport {
  tenantsCompared: number;
  /** Chunks by which the index differed from Postgres, summed over the documents that differed. */
  driftChunks: number;
  repairedDocuments: number;
}

/**
 * The safety net under the change feed: compares what a replica's index holds with what Postgres
 * says it should hold (indexed documents, the index's embedding model) and repairs what differs —
 * whatever the cause (a bug, a write that bypassed the feed, an index edited behind our back).
 *
 * Cheap when all is well: one grouped count per tenant on each side. Only a tenant whose totals
 * differ is compared document by document, and only the documents that differ are reloaded from
 * Postgres (or removed). Documents with changes after the index's feed position are in flight, not
 * drifted: they are left out on both sides. Equal totals can hide a missing document balanced by a
 * stray one of the same size, so each run also compares one tenant document by document whatever
 * its totals, in turn.
 */
export class IndexReconciler {
  private spotCheck = 0;

  constructor(
    private readonly chunks: ChunkRepository,
    private readonly logger: Logger,
    private readonly metrics: ServiceMetrics,
  ) {}

  /** The caller keeps the target's feed position still meanwhile (no replay runs on it). */
  async reconcile(target: IndexTarget): Promise<ReconciliationReport> {
    const slicer = new TimeSlicer();
    const expected = await this.chunks.indexedCountsByTenant(target.embedder.model, target.position);
    const tenantIds = [...expected.counts.keys()].sort();
    const held = await target.index.countTenantChunks(tenantIds);
    const pendingByTenant = groupByTenant(expected.pending);

    const suspects = new Set<string>();
    for (const tenantId of tenantIds) {
      let holds = held.get(tenantId) ?? 0;
      const pending = pendingByTenant.get(tenantId);
      if (pending) {
        const perDocument = await target.index.countDocumentChunks(tenantId);
        for (const documentId of pending) holds -= perDocument.get(documentId) ?? 0;
      }
      if (holds !== (expected.counts.get(tenantId) ?? 0)) suspects.add(tenantId);
    }
    if (tenantIds.length > 0) suspects.add(tenantIds[this.spotCheck++ % tenantIds.length]);

    const report: ReconciliationReport = { tenantsCompared: tenantIds.length, driftChunks: 0, repairedDocuments: 0 };
    for (const tenantId of suspects) {
      const repaired = await this.repairTenant(target, tenantId, slicer);
      report.driftChunks += repaired.driftChunks;
      report.repairedDocuments += repaired.documentIds.length;
      if (repaired.documentIds.length > 0) {
        this.logger.warn('index differed from Postgres: documents reloaded', {
          tenantId,
          documents: repaired.documentIds.length,
          driftChunks: repaired.driftChunks,
          sample: repaired.documentIds.slice(0, 10),
          model: target.embedder.model,
        });
      }
    }
    this.metrics.indexDriftChunks.set(report.driftChunks);
    this.metrics.indexRepairedDocuments.inc(report.repairedDocuments);
    return report;
  }

  private async repairTenant(target: IndexTarget, tenantId: string, slicer: TimeSlicer): Promise<{ driftChunks: number; documentIds: string[] }> {
    const expected = await this.chunks.indexedCountsByDocument(tenantId, target.embedder.model, target.position);
    const held = await target.index.countDocumentChunks(tenantId);
    const inFlight = new Set(expected.pending.map((document) => document.documentId));
    const documentIds: string[] = [];
    let driftChunks = 0;
    for (const documentId of new Set([...expected.counts.keys(), ...held.keys()])) {
      if (inFlight.has(documentId)) continue;
      const difference = Math.abs((expected.counts.get(documentId) ?? 0) - (held.get(documentId) ?? 0));
      if (difference === 0) continue;
      documentIds.push(documentId);
      driftChunks += difference;
    }
    await reloadDocuments(
      this.chunks,
      target,
      documentIds.map((documentId) => ({ tenantId, documentId })),
      slicer,
    );
    return { driftChunks, documentIds };
  }
}

function groupByTenant(documents: readonly PendingDocument[]): Map<string, string[]> {
  const byTenant = new Map<string, string[]>();
  for (const { tenantId, documentId } of documents) {
    const list = byTenant.get(tenantId);
    if (list) list.push(documentId);
    else byTenant.set(tenantId, [documentId]);
  }
  return byTenant;
}
