import { scaled } from '../src/fault-scale';
import { jitter, useScenario } from '../src/scenario';
import { UploadLoad } from '../src/workload';

jest.setTimeout(scaled({ quick: 240_000, full: 3_600_000 }));

describe('ingestion workers killed (kill -9) again and again under upload load', () => {
  const scenario = useScenario('ingestion killed under upload load', { replicas: { ingestion: 2 } });

  it('indexes every accepted document exactly once, and every deleted one disappears', async () => {
    const { rig, log } = scenario();
    const uploads = new UploadLoad(rig.gatewayUrl, log, { concurrency: 3, tenants: ['acme', 'globex'], largeShare: 0.15, deleteEvery: 9, paceMs: 100, maxBacklog: { documents: 40, backlog: () => rig.backlog() } });
    uploads.start();
    const replicas = rig.stack.processesOf('ingestion');
    const revivals = new Map<string, Promise<void>>();
    const kills = scaled({ quick: 8, full: 450 });
    for (let kill = 0; kill < kills; kill++) {
      await jitter(200, 1200);
      // Keep one replica alive at most moments (as a rolling crash would), but not always.
      const running = replicas.filter((key) => rig.stack.isRunning(key) && !revivals.has(key));
      const victim = running[Math.floor(Math.random() * running.length)] ?? replicas[0];
      await revivals.get(victim);
      await rig.kill(victim);
      revivals.set(victim, rig.revive(victim).finally(() => revivals.delete(victim)));
    }
    await Promise.all(revivals.values());
    await uploads.stop();
    const lastFaultAt = Date.now();

    const { problems } = await scenario().verify(uploads, lastFaultAt);
    expect(uploads.accepted.size).toBeGreaterThan(kills);
    expect(problems).toEqual([]);
  });
});
