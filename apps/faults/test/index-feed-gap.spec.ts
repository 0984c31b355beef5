import { waitFor } from '@quarry/testing';
import { useScenario } from '../src/scenario';
import { UploadLoad } from '../src/workload';

jest.setTimeout(120_000);

describe('index changes committed out of order (a delete held open while another upload commits)', () => {
  const scenario = useScenario('out-of-order commits of index changes');

  it('never cites a deleted document, whichever transaction commits first', async () => {
    const { rig, log } = scenario();
    const uploads = new UploadLoad(rig.gatewayUrl, log, { concurrency: 1, tenants: ['acme'], largeShare: 0, deleteEvery: 0 });
    await uploads.uploadMany(1);
    const [victim] = [...uploads.accepted.values()];
    const indexed = async (id: string) => (await rig.statusOf(id)) === 'indexed';
    await waitFor(() => indexed(victim.documentId), { timeoutMs: 30_000, description: 'the first document to be indexed' });

    // The gateway's delete, as DocumentRepository.delete does it, but held open.
    const held = await rig.db.connect();
    try {
      await held.query('BEGIN');
      await held.query('DELETE FROM documents WHERE id = $1', [victim.documentId]);
      await held.query(`INSERT INTO index_changes (tenant_id, document_id, kind) VALUES ($1, $2, 'delete')`, [victim.tenantId, victim.documentId]);

      // Meanwhile another upload commits its (later numbered) index change, and retrieval reads it.
      await uploads.uploadMany(1);
      const later = [...uploads.accepted.values()][1];
      await waitFor(() => indexed(later.documentId), { timeoutMs: 30_000, description: 'the second document to be indexed' });
      const asked = await log.send(rig.gatewayUrl, 'POST', '/api/query', {
        headers: { 'content-type': 'application/json', 'x-tenant-id': 'acme' },
        body: JSON.stringify({ question: `What is filed under ${later.token}?` }),
      });
      expect(asked.status).toBe(200);
      await held.query('COMMIT');
    } finally {
      held.release();
    }
    uploads.accepted.delete(victim.documentId);
    uploads.deleted.set(victim.documentId, victim);
    rig.tally.faults['delete held open across another commit'] = 1;

    const { problems } = await scenario().verify(uploads, Date.now());
    expect(problems).toEqual([]);
  });
});
