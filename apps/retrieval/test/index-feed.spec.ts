import { type DataSource, vectorToBytes } from '@quarry/persistence';
import { ReplicaFixture, documentsFound, embedder, openTransaction } from './replica-fixture';

/*
 * The change feed under transactions that commit out of order. Sequence numbers are drawn when a
 * transaction writes its change, not when it commits, so a change with a lower number can become
 * visible after one with a higher number: a replica that had already moved past the higher one
 * must still apply the lower one. (With the former `seq > watermark` feed both tests failed: the
 * deleted document stayed searchable, the late one never appeared.)
 */
describe('the index change feed with transactions committing out of order', () => {
  let fixture: ReplicaFixture;
  let dataSource: DataSource;

  beforeAll(async () => {
    fixture = await ReplicaFixture.onTestSchema('retrievalfeed');
    dataSource = fixture.dataSource;
  });

  afterAll(async () => {
    await fixture?.close();
  });

  it('drops a document whose delete committed after a later upload had already been read', async () => {
    const doomed = await fixture.storeDocument('acme', 'volcanoes.txt', 'Volcanoes erupt molten basalt lava onto the ocean floor.');
    const replica = await fixture.startReplica();
    expect(await documentsFound(replica, 'acme', 'basalt lava')).toEqual([doomed]);

    // T1: the statements of DocumentRepository.delete, left open: its change draws the lower number.
    const deletion = await openTransaction(dataSource);
    await deletion.query('DELETE FROM documents WHERE tenant_id = $1 AND id = $2', ['acme', doomed]);
    await deletion.query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ($1, $2, 'delete')`, ['acme', doomed]);
    // T2: another upload commits meanwhile, and the replica reads the feed while T1 is still open
    // (T1 stays open only for this: transaction ids are cluster-wide, an open T1 delays every reader).
    const later = await fixture.storeDocument('acme', 'tides.txt', 'Tides follow the phases of the moon.');
    await replica.synchronizer.catchUp();
    await deletion.commit();

    expect(await documentsFound(replica, 'acme', 'basalt lava')).not.toContain(doomed);
    expect(await documentsFound(replica, 'acme', 'tides moon')).toEqual([later]);
  });

  it('finds a document whose upsert committed after a later upload had already been read', async () => {
    const text = 'Glaciers carve U-shaped valleys over thousands of years.';
    const slow = await fixture.createDocument('acme', 'glaciers.txt', text);
    const replica = await fixture.startReplica();
    const [vector] = await embedder.embed([text]);

    // T1: the statements of ChunkRepository.replaceDocumentChunks, left open.
    const indexing = await openTransaction(dataSource);
    await indexing.query(
      `INSERT INTO chunks (document_id, tenant_id, ordinal, text, token_count, provenance, embedding, embedding_model) VALUES ($1, $2, 0, $3, 10, '{}', $4, $5)`,
      [slow, 'acme', text, vectorToBytes(vector), embedder.model],
    );
    await indexing.query(`UPDATE documents SET status = 'indexed', chunk_count = 1 WHERE id = $1`, [slow]);
    await indexing.query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ($1, $2, 'upsert')`, ['acme', slow]);
    const later = await fixture.storeDocument('acme', 'deserts.txt', 'Deserts receive less than ten inches of rain a year.');
    // T2's change is not settled while the older T1 runs, yet it is applied at once (read-your-writes).
    expect(await documentsFound(replica, 'acme', 'deserts rain')).toEqual([later]);
    await indexing.commit();

    expect(await documentsFound(replica, 'acme', 'glacier valleys')).toEqual([slow]);
    expect(await documentsFound(replica, 'acme', 'deserts rain')).toEqual([later]);
  });

  it('a replica booting while a transaction is open replays what that transaction commits later', async () => {
    const text = 'Coral reefs grow in warm shallow seas.';
    const late = await fixture.createDocument('reef', 'coral.txt', text);
    const [vector] = await embedder.embed([text]);
    const indexing = await openTransaction(dataSource);
    await indexing.query(
      `INSERT INTO chunks (document_id, tenant_id, ordinal, text, token_count, provenance, embedding, embedding_model) VALUES ($1, $2, 0, $3, 10, '{}', $4, $5)`,
      [late, 'reef', text, vectorToBytes(vector), embedder.model],
    );
    await indexing.query(`UPDATE documents SET status = 'indexed', chunk_count = 1 WHERE id = $1`, [late]);
    await indexing.query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ($1, $2, 'upsert')`, ['reef', late]);
    // The load cannot see the open transaction's chunks; the feed position taken before it can.
    const replica = await fixture.startReplica();
    await indexing.commit();
    expect(await documentsFound(replica, 'reef', 'coral reefs')).toEqual([late]);
  });
});
