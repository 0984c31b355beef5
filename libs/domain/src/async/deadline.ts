/**
 * The work's own result, or a rejection "no answer within <ms> ms" once the deadline passes,
 * whichever comes first. The work itself is not stopped (a probe of a dead server may hang for
 * good); the caller just stops waiting for it, and the timer never outlives the race.
 */
export function withinDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
