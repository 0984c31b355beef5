import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';
import type { LimitSubject } from '../limits/limit-subject';

/**
 * Caps the progress streams one API key (one tenant in trusted-header mode, see limitSubject)
 * holds open on this gateway process: each costs a socket and a place in the poller's query, so
 * one key cannot take them all, nor starve the tenant's other keys. Counted per process, not in
 * Redis: what it protects (sockets, the poller) is the process's own, and a slot must come back
 * the moment a stream ends, even if the process dies holding it.
 */
@Injectable()
export class StreamQuota {
  private readonly open = new Map<string, number>();
  private readonly max: number;

  constructor(@Inject(SERVICE_CONFIG) config: Pick<GatewayConfig, 'SSE_MAX_STREAMS_PER_KEY'>) {
    this.max = config.SSE_MAX_STREAMS_PER_KEY;
  }

  /** Takes a slot (RATE_LIMITED when the subject has none left); the returned function gives it back, once. */
  acquire(subject: LimitSubject): () => void {
    const count = this.open.get(subject.id) ?? 0;
    if (count >= this.max) {
      throw new DomainError(
        ErrorCode.RateLimited,
        `at most ${this.max} progress streams per ${subject.noun} may be open at once (SSE_MAX_STREAMS_PER_KEY); close one or retry later`,
      );
    }
    this.open.set(subject.id, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(subject.id) ?? 1) - 1;
      if (left > 0) this.open.set(subject.id, left);
      else this.open.delete(subject.id);
    };
  }

  openStreams(subject: LimitSubject): number {
    return this.open.get(subject.id) ?? 0;
  }
}
