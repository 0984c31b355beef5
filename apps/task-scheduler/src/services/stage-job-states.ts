import { INGESTION_STAGES, type IngestionStage, stageJobId } from '@quarry/contracts';
import type { Job, JobState, Queue } from 'bullmq';

// A job in one of these states will still run (an active one whose worker died is re-run by
// BullMQ's stalled-job check), so its document is not stuck.
const ALIVE = new Set<string>(['waiting', 'prioritized', 'active', 'delayed', 'waiting-children']);

export type StageJobState = JobState | 'unknown';

/** The queue state of each step job of one document's content ('unknown': no such job). */
export type StageJobStates = Record<IngestionStage, StageJobState>;

export function isAlive(state: StageJobState): boolean {
  return ALIVE.has(state);
}

/**
 * The states of a document's step jobs, or 'alive' as soon as one of them is. The jobs that are
 * alive in a healthy pipeline — the recorded step's, or the next one it just handed over to; parse
 * for a queued document — are asked first, so a document of a large, healthy backlog costs one or
 * two Redis calls; only one that looks lost costs all four.
 */
export async function stageJobStates(queue: Queue, document: { id: string; sha256: string; stage: string | null }): Promise<StageJobStates | 'alive'> {
  const stateOf = (stage: IngestionStage) => queue.getJobState(stageJobId(stage, document.id, document.sha256));
  const recorded = INGESTION_STAGES.indexOf(document.stage as IngestionStage);
  const likely = recorded < 0 ? INGESTION_STAGES.slice(0, 1) : INGESTION_STAGES.slice(recorded, recorded + 2);
  const first = await Promise.all(likely.map(stateOf));
  if (first.some(isAlive)) return 'alive';
  const rest = INGESTION_STAGES.filter((stage) => !likely.includes(stage));
  const others = await Promise.all(rest.map(stateOf));
  if (others.some(isAlive)) return 'alive';
  return Object.fromEntries([...likely.map((stage, index) => [stage, first[index]]), ...rest.map((stage, index) => [stage, others[index]])]) as StageJobStates;
}

/** BullMQ's reason for a job whose worker died (lock lost) more often than allowed while running it. */
export function stalledTooOften(job: Job | undefined): boolean {
  return job !== undefined && /stalled more than allowable limit/i.test(job.failedReason ?? '');
}

/** The readable failure recorded for a step whose workers kept dying while running it. */
export function stalledFailureMessage(stage: IngestionStage): string {
  return `the ${stage} step stopped its worker twice (the process crashed, ran out of memory or was killed)`;
}
