import { ClientLog } from './client-log';
import { FaultRig } from './fault-rig';
import { saveTally } from './fault-tally';
import { type Findings, checkInvariants, recordFindings, violations } from './invariants';
import type { UploadLoad } from './workload';

/**
 * The frame every fault scenario shares: a rig of its own, a client log, and at the end the
 * invariants checked against what the API accepted, with the tally saved for the suite's report.
 */
export class Scenario {
  readonly log = new ClientLog();

  private constructor(readonly rig: FaultRig) {}

  static async start(name: string, options: Parameters<typeof FaultRig.start>[1] = {}): Promise<Scenario> {
    return new Scenario(await FaultRig.start(name, options));
  }

  /** Checks every invariant for the documents the loads accepted; the lines of whatever is violated. */
  async verify(uploads: Pick<UploadLoad, 'accepted' | 'deleted'>, lastFaultAt: number): Promise<{ findings: Findings; problems: string[] }> {
    const findings = await checkInvariants(this.rig, { accepted: uploads.accepted.values(), deleted: uploads.deleted.values() }, lastFaultAt);
    recordFindings(this.rig, findings, this.log, { accepted: uploads.accepted.size, deleted: uploads.deleted.size });
    const crashes = this.rig.stack.crashes.map((crash) => `${crash.key} exited by itself (code ${crash.code}):\n${crash.logs}`);
    const unhandled = this.rig.unhandledRejections.slice(0, 5).map((line) => `unhandled rejection: ${line}`);
    return { findings, problems: [...violations(findings, this.log), ...crashes, ...unhandled] };
  }

  async finish(): Promise<void> {
    saveTally(this.rig.tally);
    await this.rig.stop();
  }
}

/**
 * Gives the enclosing `describe` block a scenario of its own: started before its tests, its tally
 * saved and its rig stopped after them. Call the returned function inside a test.
 */
export function useScenario(name: string, options: Parameters<typeof FaultRig.start>[1] = {}): () => Scenario {
  let scenario: Scenario | undefined;
  beforeAll(async () => {
    scenario = await Scenario.start(name, options);
  });
  afterAll(async () => {
    await scenario?.finish();
  });
  return () => {
    if (!scenario) throw new Error(`the scenario "${name}" did not start`);
    return scenario;
  };
}

/** A pause of a random length within the range, so faults land at different moments of the work. */
export function jitter(minMs: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, minMs + Math.random() * (maxMs - minMs)));
}
