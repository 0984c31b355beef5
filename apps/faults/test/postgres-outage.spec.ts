import { waitFor } from '@quarry/testing';
import { scaled } from '../src/fault-scale';
import { jitter, useScenario } from '../src/scenario';
import { QueryLoad, UploadLoad } from '../src/workload';

jest.setTimeout(scaled({ quick: 240_000, full: 3_600_000 }));

describe('Postgres stopped in immediate mode during ingestion and queries', () => {
  const scenario = useScenario('Postgres stopped during ingestion and queries');

  it('keeps answering from the in-memory index while Postgres is down, and finishes every document once it is back', async () => {
    const { rig, log } = scenario();
    const uploads = new UploadLoad(rig.gatewayUrl, log, { concurrency: 2, tenants: ['acme', 'globex'], largeShare: 0.2, deleteEvery: 13, paceMs: 100, maxBacklog: { documents: 40, backlog: () => rig.backlog() } });
    await uploads.uploadMany(20);
    await waitFor(async () => (await rig.countDocuments(['indexed'])) === uploads.accepted.size, {
      timeoutMs: 60_000,
      description: 'a first corpus to be indexed',
    });
    const queries = new QueryLoad(rig.gatewayUrl, log, () => [...uploads.accepted.values()], 2);
    queries.start();
    const outages = scaled({ quick: 2, full: 60 });
    const answeredDuringOutages = { answered: 0, unavailable: 0, other: 0 };
    for (let outage = 0; outage < outages; outage++) {
      // Ingestion is busy when Postgres goes: documents are mid-pipeline.
      uploads.start();
      await jitter(1000, 3000);
      await uploads.stop();
      queries.reset();
      await rig.stopPostgres();
      // Uploads cannot be stored meanwhile: each is refused with a 503, and nothing is accepted.
      const before = uploads.accepted.size;
      await uploads.uploadMany(2);
      expect(uploads.accepted.size).toBe(before);
      await jitter(outage === 0 ? 8000 : 1500, outage === 0 ? 8000 : 4000);
      for (const key of ['answered', 'unavailable', 'other'] as const) answeredDuringOutages[key] += queries.outcomes[key];
      await rig.startPostgres();
    }
    const lastFaultAt = Date.now();
    await jitter(2000, 2000);
    await queries.stop();

    const asked = answeredDuringOutages.answered + answeredDuringOutages.unavailable + answeredDuringOutages.other;
    const servedShare = asked === 0 ? 0 : answeredDuringOutages.answered / asked;
    rig.tally.notes.push(`queries during the Postgres outages: ${answeredDuringOutages.answered} of ${asked} answered (${(servedShare * 100).toFixed(1)} %)`);
    const { problems } = await scenario().verify(uploads, lastFaultAt);
    expect(problems).toEqual([]);
    expect(asked).toBeGreaterThan(10);
    expect(servedShare).toBeGreaterThanOrEqual(0.95);
  });
});
