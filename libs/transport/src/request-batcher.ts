import { type BatchReplyItem, ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';

interface PendingRequest {
  readonly request: unknown;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

export interface RequestBatcherOptions {
  /** Most requests per batch job; more pending requests are split into even batches. */
  readonly maxSize: number;
  /** Sends one request as its own job (a batch of one would only add an envelope). */
  readonly sendOne: (request: unknown) => Promise<unknown>;
  /** Sends a batch job and resolves with its per-request answers, in request order. */
  readonly sendBatch: (requests: unknown[]) => Promise<{ replies: Array<BatchReplyItem<unknown>> }>;
}

/**
 * Coalesces the requests of one job made during the same turn of the event loop into batch jobs.
 * Each BullMQ job costs the producer, Redis and the worker a fixed amount of bookkeeping (scripts,
 * events, locks) that is larger than a search itself; under concurrent load a batch pays it once
 * for many requests. Nothing waits on a timer: the batch leaves at the end of the current turn, so a
 * request made alone goes out at once as an ordinary job.
 */
export class RequestBatcher {
  private pending: PendingRequest[] = [];
  private flushScheduled = false;

  constructor(private readonly options: RequestBatcherOptions) {
    if (!(options.maxSize >= 1)) throw new RangeError('a batch holds at least one request');
  }

  submit(request: unknown): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.push({ request, resolve, reject });
      if (this.flushScheduled) return;
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.flushScheduled = false;
    const waiting = this.pending;
    this.pending = [];
    // Even batches: 33 requests with a maximum of 32 leave as 17 + 16, not 32 + 1.
    const size = Math.ceil(waiting.length / Math.ceil(waiting.length / this.options.maxSize));
    for (let start = 0; start < waiting.length; start += size) this.dispatch(waiting.slice(start, start + size));
  }

  private dispatch(batch: PendingRequest[]): void {
    if (batch.length === 1) {
      this.options.sendOne(batch[0].request).then(batch[0].resolve, batch[0].reject);
      return;
    }
    this.options.sendBatch(batch.map((entry) => entry.request)).then(
      ({ replies }) => {
        batch.forEach((entry, position) => {
          const answer = replies[position];
          if (answer === undefined) entry.reject(new DomainError(ErrorCode.Internal, `the batch reply has no answer for request ${position}`));
          else if ('error' in answer) entry.reject(new DomainError(answer.error.code, answer.error.message));
          else entry.resolve(answer.reply);
        });
      },
      (error: unknown) => {
        for (const entry of batch) entry.reject(error);
      },
    );
  }
}
