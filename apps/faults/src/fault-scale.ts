/**
 * How hard the suite pushes. `quick` is the part `npm test` runs (a few of each fault, minutes);
 * `full` is `npm run test:faults` (over a thousand faults in all).
 */
export type FaultScale = 'quick' | 'full';

export const FAULT_SCALE: FaultScale = process.env.FAULTS_SCALE === 'full' ? 'full' : 'quick';

/** Picks the figure for the current scale. */
export function scaled<T>(figures: Record<FaultScale, T>): T {
  return figures[FAULT_SCALE];
}
