import { JobName, QueueName, stageJobId } from '@quarry/contracts';
import { waitFor } from '@quarry/testing';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { useScenario } from '../src/scenario';
import { UploadLoad } from '../src/workload';

jest.setTimeout(120_000);

describe('a chain of step jobs whose next step failed for good in an earlier attempt', () => {
  // Every document runs step by step, so each step chains the next one by its deterministic job id.
  const scenario = useScenario('jammed chain of step jobs', { env: { INLINE_STEPS_MAX_BYTES: '0' } });

  it('re-drives the failed successor instead of silently chaining to it, and indexes the document', async () => {
    const { rig, log } = scenario();
    const connection = { host: '127.0.0.1', port: rig.redis.port };
    const queue = new Queue(QueueName.Ingestion, { connection, prefix: 'quarry' });
    try {
      await rig.stack.stopService('ingestion');
      const uploads = new UploadLoad(rig.gatewayUrl, log, { concurrency: 1, tenants: ['acme'], largeShare: 0, deleteEvery: 0 });
      await uploads.uploadMany(1);
      const [document] = [...uploads.accepted.values()];
      const { rows } = await rig.db.query<{ sha256: string }>('SELECT sha256 FROM documents WHERE id = $1', [document.documentId]);
      const payload = { tenantId: document.tenantId, documentId: document.documentId, sha256: rows[0].sha256.trim() };

      // An embed job that failed for good earlier (as after a Postgres outage) under the id the chain will use.
      const parseJob = await queue.getJob(stageJobId('parse', payload.documentId, payload.sha256));
      await parseJob?.remove();
      await queue.add(JobName.EmbedDocument, payload, { jobId: stageJobId('embed', payload.documentId, payload.sha256), attempts: 1 });
      const failer = new Worker(QueueName.Ingestion, () => Promise.reject(new UnrecoverableError('INTERNAL: failed in an earlier attempt')), { connection, prefix: 'quarry' });
      await waitFor(async () => (await queue.getJobCountByTypes('failed')) === 1, { timeoutMs: 10_000, description: 'the embed job to fail' });
      await failer.close();

      // The pipeline starts over from the first step; its chain must get past the failed embed job.
      await queue.add(JobName.IngestDocument, payload, { jobId: stageJobId('parse', payload.documentId, payload.sha256), attempts: 5 });
      await rig.revive('ingestion');
      rig.tally.faults['next step failed for good earlier (jammed chain)'] = 1;

      const { problems } = await scenario().verify(uploads, Date.now());
      expect(problems).toEqual([]);
    } finally {
      await queue.close();
    }
  });
});
