/** Seconds since `started` (a performance.now() reading), to the millisecond: how long a task's work took, for its result. */
export const secondsSince = (started: number): number => Number(((performance.now() - started) / 1000).toFixed(3));
