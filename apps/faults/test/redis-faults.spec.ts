import { waitFor } from '@quarry/testing';
import { scaled } from '../src/fault-scale';
import { jitter, useScenario } from '../src/scenario';
import { QueryLoad, UploadLoad } from '../src/workload';

jest.setTimeout(scaled({ quick: 240_000, full: 3_600_000 }));

describe('Redis killed and restarted: on its append-only file, and with its data lost', () => {
  const scenario = useScenario('Redis killed and restarted');

  it('recovers from Redis kills under upload and query load, answering 503 (never 500) meanwhile', async () => {
    const { rig, log } = scenario();
    const uploads = new UploadLoad(rig.gatewayUrl, log, { concurrency: 2, tenants: ['acme', 'globex'], largeShare: 0.15, deleteEvery: 11, paceMs: 100, maxBacklog: { documents: 40, backlog: () => rig.backlog() } });
    const queries = new QueryLoad(rig.gatewayUrl, log, () => [...uploads.accepted.values()], 2);
    uploads.start();
    queries.start();
    const restarts = scaled({ quick: 3, full: 340 });
    const emptyRestarts = scaled({ quick: 1, full: 40 });
    for (let restart = 0; restart < restarts + emptyRestarts; restart++) {
      await jitter(300, 1200);
      // Every few restarts the data is lost; the rest come back from the append-only file.
      if (restart % Math.ceil((restarts + emptyRestarts) / emptyRestarts) === 0) await rig.restartRedisEmpty(Math.random() * 1000);
      else await rig.restartRedis(Math.random() * 1500);
    }
    const lastFaultAt = Date.now();
    await jitter(1000, 1000);
    await uploads.stop();
    await queries.stop();

    const { problems } = await scenario().verify(uploads, lastFaultAt);
    expect(problems).toEqual([]);
  });

  it('brings queued documents whose jobs died with Redis\'s data to the end, without restarting anything', async () => {
    const { rig, log } = scenario();
    // Ingestion is away, so the uploads wait in the queue: exactly what an empty restart throws away.
    await rig.stack.stopService('ingestion');
    const uploads = new UploadLoad(rig.gatewayUrl, log, { concurrency: 1, tenants: ['initech'], largeShare: 0, deleteEvery: 0 });
    await uploads.uploadMany(scaled({ quick: 10, full: 30 }));
    await rig.restartRedisEmpty();
    const lastFaultAt = Date.now();
    await rig.revive('ingestion');
    await waitFor(async () => (await rig.countDocuments(['queued', 'processing'])) === 0, {
      timeoutMs: 60_000,
      description: 'the queued documents to be re-driven by the reconciler',
    }).catch(() => undefined);

    const { problems } = await scenario().verify(uploads, lastFaultAt);
    expect(problems).toEqual([]);
  });
});
