import { randomUUID } from 'node:crypto';
import { ServiceMetrics, createLogger } from '@quarry/observability';
import { ChunkRepository, type DataSource } from '@quarry/persistence';
import { InMemoryHybridIndex, loadInSlices } from '@quarry/search';
import { waitFor } from '@quarry/testing';
import { IndexReconciler } from '../src/services/index-reconciler';
import { newTarget } from '../src/services/index-target';
import { ReplicaFixture, documentsFound, embedder, metricValue } from './replica-fixture';

const logger = createLogger({ service: 'retrieval-test', level: 'error', silent: true });

describe('reconciliation of a replica’s index with Postgres', () => {
  let fixture: ReplicaFixture;
  let dataSource: DataSource;

  beforeAll(async () => {
    fixture = await ReplicaFixture.onTestSchema('retrievalreconcile');
    dataSource = fixture.dataSource;
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('repairs an index changed behind its back, and the metrics show the drift', async () => {
    const glaciers = await fixture.storeDocument('acme', 'glaciers.txt', 'Glaciers carve valleys.', 'Moraines mark where glaciers stopped.', 'Ice ages return.');
    const rivers = await fixture.storeDocument('acme', 'rivers.txt', 'Rivers erode canyons through sandstone.');
    const replica = await fixture.startReplica();
    expect(await metricValue(replica, 'quarry_index_repaired_documents_total')).toBe(0);
    expect(await replica.synchronizer.reconcile()).toEqual({ tenantsCompared: 1, driftChunks: 0, repairedDocuments: 0 });

    // Tampering: a document vanishes from the index, and one Postgres never had appears in it.
    const { index } = replica.synchronizer.served;
    await index.removeDocument('acme', glaciers);
    const strayId = randomUUID();
    const [vector] = await embedder.embed(['stray volcano']);
    await index.upsertDocumentChunks('acme', strayId, [
      { chunkId: randomUUID(), documentId: strayId, tenantId: 'acme', text: 'A stray volcano.', vector, tags: [], folder: '/', filename: 'stray.txt', ordinal: 0, provenance: {} },
    ]);
    expect(await documentsFound(replica, 'acme', 'glaciers')).toEqual([]); // the feed alone does not notice

    expect(await replica.synchronizer.reconcile()).toEqual({ tenantsCompared: 1, driftChunks: 4, repairedDocuments: 2 });
    expect(await metricValue(replica, 'quarry_index_drift_chunks')).toBe(4);
    expect(await metricValue(replica, 'quarry_index_repaired_documents_total')).toBe(2);
    expect(await documentsFound(replica, 'acme', 'glaciers moraines')).toEqual([glaciers]);
    expect(await documentsFound(replica, 'acme', 'volcano')).toEqual([]);
    expect(await documentsFound(replica, 'acme', 'canyons')).toEqual([rivers]);

    // Repaired: the next run finds nothing, and the counter keeps its total.
    expect(await replica.synchronizer.reconcile()).toMatchObject({ driftChunks: 0, repairedDocuments: 0 });
    expect(await metricValue(replica, 'quarry_index_drift_chunks')).toBe(0);
    expect(await metricValue(replica, 'quarry_index_repaired_documents_total')).toBe(2);
  });

  it('finds a missing document balanced by a stray one of the same size (equal totals)', async () => {
    const kept = await fixture.storeDocument('globex', 'a.txt', 'Penguins live in the southern hemisphere.');
    const replica = await fixture.startReplica();
    const { index } = replica.synchronizer.served;
    await index.removeDocument('globex', kept);
    const strayId = randomUUID();
    const [vector] = await embedder.embed(['stray']);
    await index.upsertDocumentChunks('globex', strayId, [
      { chunkId: randomUUID(), documentId: strayId, tenantId: 'globex', text: 'Stray.', vector, tags: [], folder: '/', filename: 's.txt', ordinal: 0, provenance: {} },
    ]);
    // Totals agree, so only the tenant-by-tenant spot check (one tenant per run, in turn) finds it.
    let repaired = 0;
    for (let run = 0; run < 3 && repaired === 0; run++) repaired = (await replica.synchronizer.reconcile()).repairedDocuments;
    expect(repaired).toBe(2);
    expect(await documentsFound(replica, 'globex', 'penguins')).toEqual([kept]);
  });

  it('does not take a change still in flight for drift', async () => {
    const chunks = new ChunkRepository(dataSource);
    const reconciler = new IndexReconciler(chunks, logger, new ServiceMetrics('retrieval'));
    // An index loaded as a replica loads it, then an upload it has not applied yet.
    const target = newTarget({ index: new InMemoryHybridIndex(), embedder }, await chunks.feedStart());
    await loadInSlices(target.index, chunks.indexedChunkPages(embedder.model));
    const uploaded = await fixture.storeDocument('initech', 'printers.txt', 'Printers jam on Mondays.');
    // The upload's change lies after the index's feed position: in flight, not drift.
    for (let run = 0; run < 3; run++) expect(await reconciler.reconcile(target)).toMatchObject({ driftChunks: 0, repairedDocuments: 0 });

    // Past its change (without applying it), the index has really lost the upload.
    const change = await waitFor(async () => (await chunks.changesAfter(target.position)).settled.find((settled) => settled.documentId === uploaded), {
      timeoutMs: 10_000,
      description: 'the upload’s change to settle',
    });
    target.position = change;
    expect(await reconciler.reconcile(target)).toMatchObject({ driftChunks: 1, repairedDocuments: 1 });
    expect(Object.fromEntries(await target.index.countDocumentChunks('initech'))).toEqual({ [uploaded]: 1 });
  });
});
