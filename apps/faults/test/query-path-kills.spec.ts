import { waitFor } from '@quarry/testing';
import { scaled } from '../src/fault-scale';
import { jitter, useScenario } from '../src/scenario';
import { QueryLoad, UploadLoad } from '../src/workload';

jest.setTimeout(scaled({ quick: 240_000, full: 3_600_000 }));

describe('retrieval and agent killed (kill -9) under query load', () => {
  const scenario = useScenario('retrieval and agent killed under query load');

  it('answers or says 503 while a service is down, answers again once it is back, and loses nothing', async () => {
    const { rig, log } = scenario();
    const uploads = new UploadLoad(rig.gatewayUrl, log, { concurrency: 2, tenants: ['acme', 'globex'], largeShare: 0, deleteEvery: 0 });
    await uploads.uploadMany(scaled({ quick: 20, full: 100 }));
    await waitFor(async () => (await rig.countDocuments(['indexed'])) === uploads.accepted.size, {
      timeoutMs: 60_000,
      description: 'the corpus to be indexed',
    });
    const queries = new QueryLoad(rig.gatewayUrl, log, () => [...uploads.accepted.values()], 3);
    queries.start();
    const kills = scaled({ quick: 4, full: 120 });
    for (let kill = 0; kill < kills; kill++) {
      await jitter(300, 1500);
      const victim = kill % 2 === 0 ? 'retrieval' : 'agent';
      await rig.kill(victim);
      await jitter(0, 1000);
      await rig.revive(victim);
    }
    const lastFaultAt = Date.now();
    // Once everything is back, questions are answered again.
    queries.reset();
    await waitFor(() => queries.outcomes.answered >= 10, { timeoutMs: 30_000, description: 'answers after the last restart' });
    await queries.stop();

    const { problems } = await scenario().verify(uploads, lastFaultAt);
    rig.tally.notes.push(`after the last restart: ${queries.outcomes.answered} answered, ${queries.outcomes.unavailable} unavailable`);
    expect(problems).toEqual([]);
  });
});
