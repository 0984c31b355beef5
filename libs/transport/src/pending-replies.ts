import type { EventEmitter } from 'node:events';
import type { QueueName } from '@quarry/contracts';
import { isDomainError, outageError } from '@quarry/domain';
import { Job, type QueueEvents } from 'bullmq';
import type { ConsumerPresence } from './consumer-presence';
import { fromFailureReason } from './job-errors';
import type { QueueRegistry } from './queue-registry';

/** What the waits of one client report when a reply cannot come (the client's own wording). */
export interface ReplyFailures {
  timedOut: (queue: QueueName, timeoutMs: number) => Error;
  /** No worker consumes the queue any more. */
  unavailable: (queue: QueueName) => Error;
  /** The job is gone (Redis restarted empty). */
  lost: (queue: QueueName) => Error;
  /** The client was closed while the request waited. */
  closed: (queue: QueueName) => Error;
}

export interface PendingRepliesOptions {
  queues: QueueRegistry;
  presence: ConsumerPresence;
  /** How often the watchdog looks at the queues that have waiting requests. */
  pollMs: number;
  failures: ReplyFailures;
  /** Calls to Redis made by the watchdog go through this (deadline, outage translation). */
  brokerCall: <T>(call: () => Promise<T>) => Promise<T>;
}

interface Waiter {
  queue: QueueName;
  jobId: string;
  deadline: number;
  timeoutMs: number;
  since: number;
  resolve: (reply: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { reply: unknown } | { error: Error };

// Completions of jobs nobody here waits for (yet) are kept this long, this many: a reply whose
// event is read before its waiter is registered (two sockets, read in either order) is found there.
const EARLY_KEEP_MS = 2000;
const EARLY_MAX = 512;

/**
 * The waits of every request a client has in flight, shared: one `completed` and one `failed`
 * listener per queue (not two per request) settle waiters from a map, and one watchdog timer (not
 * an interval and a timeout per request) handles timeouts and, every `pollMs` while any request
 * waits, looks at each queue that has waiters — once per queue: is a worker still consuming it, is
 * Redis answering — and at the jobs that have waited at least one poll, to find one whose event was
 * missed (finished while the event stream reconnected) or that vanished (Redis restarted empty).
 *
 * So a waiting request costs a map entry; the watchdog's Redis calls grow with the queues and with
 * the requests slower than a poll, not with the request rate.
 */
export class PendingReplies {
  private readonly waiters = new Map<string, Waiter>();
  private readonly early = new Map<string, { outcome: Outcome; at: number }>();
  private readonly listening = new WeakSet<QueueEvents>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private nextPollAt = 0;
  private polling = false;
  private closed = false;

  constructor(private readonly options: PendingRepliesOptions) {}

  get size(): number {
    return this.waiters.size;
  }

  /**
   * Starts listening for the queue's replies (once per QueueEvents handle). Call it before the job
   * is added, so no completion can be read before someone listens.
   */
  listen(queue: QueueName, events: QueueEvents): void {
    if (this.listening.has(events)) return;
    this.listening.add(events);
    // Completion arguments are untyped on the emitter BullMQ exposes for per-job names; these are the documented shapes.
    const emitter = events as unknown as EventEmitter;
    emitter.on('completed', (args: { jobId: string; returnvalue: unknown }) => this.settle(queue, args.jobId, { reply: args.returnvalue }));
    emitter.on('failed', (args: { jobId: string; failedReason: string }) => this.settle(queue, args.jobId, { error: fromFailureReason(args.failedReason) }));
  }

  /** Resolves with the job's reply, or rejects with what kept it from coming (see ReplyFailures). */
  wait(queue: QueueName, jobId: string, timeoutMs: number): Promise<unknown> {
    if (this.closed) return Promise.reject(this.options.failures.closed(queue));
    const key = keyOf(queue, jobId);
    const early = this.early.get(key);
    if (early) {
      this.early.delete(key);
      return 'reply' in early.outcome ? Promise.resolve(early.outcome.reply) : Promise.reject(early.outcome.error);
    }
    return new Promise((resolve, reject) => {
      const now = Date.now();
      this.waiters.set(key, { queue, jobId, deadline: now + timeoutMs, timeoutMs, since: now, resolve, reject });
      if (this.waiters.size === 1) this.nextPollAt = now + this.options.pollMs;
      this.arm(Math.min(now + timeoutMs, this.nextPollAt));
    });
  }

  /** Fails every waiting request (the client is closing) and stops the watchdog. */
  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const waiter of [...this.waiters.values()]) this.finish(waiter, { error: this.options.failures.closed(waiter.queue) });
    this.early.clear();
  }

  private settle(queue: QueueName, jobId: string, outcome: Outcome): void {
    const key = keyOf(queue, jobId);
    const waiter = this.waiters.get(key);
    if (waiter) {
      this.finish(waiter, outcome);
      return;
    }
    // Most are other producers' jobs; the few that are ours arrive before their waiter.
    this.early.set(key, { outcome, at: Date.now() });
    if (this.early.size > EARLY_MAX) {
      const cutoff = Date.now() - EARLY_KEEP_MS;
      for (const [oldKey, entry] of this.early) {
        if (this.early.size <= EARLY_MAX / 2 && entry.at >= cutoff) break;
        this.early.delete(oldKey);
      }
    }
  }

  private finish(waiter: Waiter, outcome: Outcome): void {
    const key = keyOf(waiter.queue, waiter.jobId);
    if (this.waiters.get(key) !== waiter) return;
    this.waiters.delete(key);
    if ('reply' in outcome) waiter.resolve(outcome.reply);
    else waiter.reject(outcome.error);
    if (this.waiters.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
    }
  }

  /** The one timer, set for the earliest of the next poll and the nearest deadline. */
  private arm(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => this.tick(), Math.max(0, at - Date.now()));
  }

  private tick(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let nearest = Number.POSITIVE_INFINITY;
    for (const waiter of [...this.waiters.values()]) {
      if (waiter.deadline <= now) this.finish(waiter, { error: this.options.failures.timedOut(waiter.queue, waiter.timeoutMs) });
      else nearest = Math.min(nearest, waiter.deadline);
    }
    if (this.waiters.size === 0) return;
    if (now >= this.nextPollAt) {
      this.nextPollAt = now + this.options.pollMs;
      void this.poll(now);
    }
    this.arm(Math.min(nearest, this.nextPollAt));
  }

  /** The watchdog's look: per queue with waiters, its consumers and the jobs older than one poll. */
  private async poll(now: number): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const byQueue = new Map<QueueName, Waiter[]>();
      for (const waiter of this.waiters.values()) {
        const list = byQueue.get(waiter.queue) ?? [];
        list.push(waiter);
        byQueue.set(waiter.queue, list);
      }
      await Promise.all([...byQueue].map(([queue, waiters]) => this.inspectQueue(queue, waiters, now)));
    } finally {
      this.polling = false;
    }
  }

  private async inspectQueue(queue: QueueName, waiters: Waiter[], now: number): Promise<void> {
    const { brokerCall, presence, queues, failures } = this.options;
    // A job that has not waited a whole poll yet is answered by its event; only older ones are looked at.
    const older = waiters.filter((waiter) => now - waiter.since >= this.options.pollMs);
    try {
      const [alive, states] = await brokerCall(() =>
        Promise.all([presence.hasConsumers(queue, { fresh: true }), Promise.all(older.map((waiter) => queues.queue(queue).getJobState(waiter.jobId)))]),
      );
      await Promise.all(
        older.map(async (waiter, position) => {
          const state = states[position];
          if (state === 'completed' || state === 'failed') {
            const finished = await brokerCall(() => Job.fromId(queues.queue(queue), waiter.jobId));
            if (!finished) this.finish(waiter, { error: failures.lost(queue) });
            else this.finish(waiter, state === 'completed' ? { reply: finished.returnvalue as unknown } : { error: fromFailureReason(finished.failedReason) });
          } else if (state === 'unknown') {
            this.finish(waiter, { error: failures.lost(queue) });
          }
        }),
      );
      if (!alive) for (const waiter of waiters) this.finish(waiter, { error: failures.unavailable(queue) });
    } catch (error) {
      // The watchdog only talks to Redis: if it cannot, no reply can arrive either.
      const failure = isDomainError(error) ? error : outageError('redis');
      for (const waiter of waiters) this.finish(waiter, { error: failure });
    }
  }
}

function keyOf(queue: QueueName, jobId: string): string {
  return `${queue}\u0000${jobId}`;
}
