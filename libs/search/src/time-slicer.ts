import { setImmediate as nextTurnOfTheEventLoop } from 'node:timers/promises';

/**
 * How long a long loop (an index build, a replay, a reconciliation) may keep the event loop before
 * it lets waiting work in: health checks, queue deliveries, searches. About a frame: short enough
 * that a search arriving mid-build waits a few milliseconds, long enough that the yields cost
 * nothing measurable (a turn of the event loop is microseconds).
 */
export const DEFAULT_SLICE_MS = 5;

/**
 * Cuts a long synchronous loop into slices: call `yieldIfDue()` after each unit of work, and the
 * loop gives up the event loop once the current slice has lasted `sliceMs`. `setImmediate` rather
 * than a timer: it runs after the I/O callbacks that are ready, without a timer's minimum delay.
 */
export class TimeSlicer {
  private sliceStarted = performance.now();
  /** Times the loop gave up the event loop. */
  yields = 0;

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  async yieldIfDue(): Promise<void> {
    if (performance.now() - this.sliceStarted < this.sliceMs) return;
    await nextTurnOfTheEventLoop();
    this.yields++;
    this.sliceStarted = performance.now();
  }
}
