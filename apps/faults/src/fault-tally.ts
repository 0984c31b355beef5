import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What one scenario did and found; scenarios write theirs, the suite's teardown adds them up. */
export interface ScenarioTally {
  scenario: string;
  /** Injected faults by kind ("kill -9 ingestion", "Redis restart (AOF)" …). */
  faults: Record<string, number>;
  /** Documents whose upload was accepted (202/200 with a document id). */
  accepted: number;
  indexed: number;
  deleted: number;
  /** Accepted documents that vanished, stayed non-terminal, or failed although they were valid. */
  lost: number;
  stuck: number;
  wronglyFailed: number;
  /** Client responses by outcome: served (2xx), refused (4xx), unavailable (503), bad (anything else). */
  responses: { served: number; refused: number; unavailable: number; bad: number };
  /** Seconds from the last fault until every accepted document was terminal. */
  recoverySeconds: number;
  /** The slowest 503 a client got: how long a request in flight took to fail while something was down. */
  slowestUnavailableMs: number;
  notes: string[];
}

export const TALLY_DIR_ENV = 'QUARRY_FAULT_TALLY_DIR';

export function emptyTally(scenario: string): ScenarioTally {
  return {
    scenario,
    faults: {},
    accepted: 0,
    indexed: 0,
    deleted: 0,
    lost: 0,
    stuck: 0,
    wronglyFailed: 0,
    responses: { served: 0, refused: 0, unavailable: 0, bad: 0 },
    recoverySeconds: 0,
    slowestUnavailableMs: 0,
    notes: [],
  };
}

export function countFault(tally: ScenarioTally, kind: string): void {
  tally.faults[kind] = (tally.faults[kind] ?? 0) + 1;
}

export function totalFaults(tally: Pick<ScenarioTally, 'faults'>): number {
  return Object.values(tally.faults).reduce((sum, count) => sum + count, 0);
}

/** Saves a scenario's tally where the suite's teardown finds it (nothing when run outside the suite). */
export function saveTally(tally: ScenarioTally): void {
  const dir = process.env[TALLY_DIR_ENV];
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${tally.scenario.replace(/[^a-z0-9]+/gi, '-')}.json`), JSON.stringify(tally, null, 2));
}

export function loadTallies(dir: string): ScenarioTally[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => JSON.parse(readFileSync(join(dir, name), 'utf8')) as ScenarioTally);
}

/** The tally as the suite prints it: per scenario, then the totals. */
export function formatTallies(tallies: ScenarioTally[]): string {
  const lines = ['', 'Fault-injection tally', ''];
  const totals = emptyTally('all scenarios');
  for (const tally of tallies) {
    lines.push(`${tally.scenario}`);
    for (const [kind, count] of Object.entries(tally.faults)) lines.push(`  ${String(count).padStart(5)}  ${kind}`);
    lines.push(
      `  documents: ${tally.accepted} accepted, ${tally.indexed} indexed, ${tally.deleted} deleted; lost ${tally.lost}, stuck ${tally.stuck}, wrongly failed ${tally.wronglyFailed}`,
      `  responses: ${tally.responses.served} served, ${tally.responses.refused} refused (4xx), ${tally.responses.unavailable} unavailable (503), ${tally.responses.bad} bad`,
      `  recovery: every accepted document terminal ${tally.recoverySeconds.toFixed(1)} s after the last fault`,
      ...(tally.slowestUnavailableMs > 0 ? [`  slowest 503: ${Math.round(tally.slowestUnavailableMs)} ms`] : []),
      ...tally.notes.map((note) => `  ${note}`),
      '',
    );
    for (const [kind, count] of Object.entries(tally.faults)) totals.faults[kind] = (totals.faults[kind] ?? 0) + count;
    for (const field of ['accepted', 'indexed', 'deleted', 'lost', 'stuck', 'wronglyFailed'] as const) totals[field] += tally[field];
    for (const field of ['served', 'refused', 'unavailable', 'bad'] as const) totals.responses[field] += tally.responses[field];
    totals.recoverySeconds = Math.max(totals.recoverySeconds, tally.recoverySeconds);
    totals.slowestUnavailableMs = Math.max(totals.slowestUnavailableMs, tally.slowestUnavailableMs);
  }
  lines.push(
    `TOTAL: ${totalFaults(totals)} injected faults (kills and restarts) over ${tallies.length} scenarios`,
    `       ${totals.accepted} documents accepted: ${totals.lost} lost, ${totals.stuck} stuck, ${totals.wronglyFailed} wrongly failed`,
    `       ${totals.responses.bad} client responses outside 2xx/4xx/503 or the documented error shape`,
    `       slowest recovery ${totals.recoverySeconds.toFixed(1)} s after the last fault; slowest 503 ${Math.round(totals.slowestUnavailableMs)} ms`,
    '',
  );
  return lines.join('\n');
}
