import { type DataSource, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { PrivatePostgres, waitFor } from '@quarry/testing';
import { ReplicaFixture, documentsFound, metricValue } from './replica-fixture';

/*
 * A replica's index lives in memory: a Postgres outage must cost freshness, never answers. The
 * replica runs against a Postgres cluster of the test's own, stopped the hard way
 * (`pg_ctl stop -m immediate`) and started again.
 */
describe('searches while Postgres is down', () => {
  let postgres: PrivatePostgres;
  let dataSource: DataSource;
  let fixture: ReplicaFixture;

  beforeAll(async () => {
    postgres = await PrivatePostgres.start();
    dataSource = await createDataSource({ url: postgres.url, schema: 'public', poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'test' }).initialize();
    await runMigrationsExclusively(dataSource);
    fixture = new ReplicaFixture(dataSource, { url: postgres.url, schema: 'public' });
  }, 60_000);

  afterAll(async () => {
    await fixture?.stopReplicas();
    await dataSource?.destroy().catch(() => undefined);
    await postgres?.destroy();
  });

  it('answers from memory while Postgres is unreachable, and catches up once it is back', async () => {
    const glaciers = await fixture.storeDocument('acme', 'glaciers.txt', 'Glaciers carve U-shaped valleys.');
    const replica = await fixture.startReplica();
    expect(await documentsFound(replica, 'acme', 'glaciers')).toEqual([glaciers]);

    await postgres.stopServer('immediate');
    // A search made before is answered from the cache (the corpus version last known holds: no
    // index change can commit while Postgres is down).
    expect(await documentsFound(replica, 'acme', 'glaciers')).toEqual([glaciers]);
    // A new search's catch-up fails: it is counted, and the search answers from the index.
    expect(await documentsFound(replica, 'acme', 'glaciers carve')).toEqual([glaciers]);
    expect(await metricValue(replica, 'quarry_index_catchup_failures_total')).toBeGreaterThanOrEqual(1);
    // While the feed is failing, searches do not even try Postgres (the background catch-up does).
    const catchUp = jest.spyOn(replica.synchronizer, 'catchUp');
    expect(await documentsFound(replica, 'acme', 'valleys')).toEqual([glaciers]);
    expect(catchUp).not.toHaveBeenCalled();
    catchUp.mockRestore();

    await postgres.startServer();
    const rivers = await waitFor(() => fixture.storeDocument('acme', 'rivers.txt', 'Rivers erode canyons.').catch(() => undefined), {
      timeoutMs: 15_000,
      description: 'Postgres to take writes again',
    });
    // The background catch-up (every 2 s) finds the feed healthy again; then searches wait for it again.
    await waitFor(async () => (await documentsFound(replica, 'acme', 'canyons')).includes(rivers), {
      timeoutMs: 15_000,
      description: 'the replica to catch up after the outage',
    });
    const lakes = await fixture.storeDocument('acme', 'lakes.txt', 'Lakes freeze in winter.');
    expect(await documentsFound(replica, 'acme', 'lakes freeze')).toEqual([lakes]); // read-your-writes again
  }, 60_000);
});
