/**
 * Runs an idempotent task at most once at a time, and lets many callers share runs: a caller gets a
 * run that started after its call — the one starting now, or, when one is already under way (which
 * may have read its data before the caller's write), the next one, shared by everyone who asked
 * meanwhile. So "catch up" always covers what was committed before the call, at no more than one
 * extra run however many callers ask.
 */
export class CoalescingRunner<T> {
  private running: Promise<T> | undefined;
  private queued: Promise<T> | undefined;

  constructor(private readonly task: () => Promise<T>) {}

  /** Whether a run is under way. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  run(): Promise<T> {
    // A queued run starts after every run under way, so it serves this caller too.
    if (this.queued) return this.queued;
    if (!this.running) return this.start();
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<T> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<T> {
    const run = this.task().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}
