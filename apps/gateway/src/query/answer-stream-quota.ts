import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError, isDomainError } from '@quarry/domain';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';
import { StreamQuota } from '../jobs/stream-quota';
import type { LimitSubject } from '../limits/limit-subject';

/**
 * Caps the streamed answers one API key (one tenant behind a trusted proxy) holds open on this
 * gateway process, at SSE_MAX_STREAMS_PER_KEY like progress streams, counted apart from them: a
 * client following its uploads must not lose its answers to them, nor the other way round.
 */
@Injectable()
export class AnswerStreamQuota {
  private readonly quota: StreamQuota;
  private readonly max: number;

  constructor(@Inject(SERVICE_CONFIG) config: Pick<GatewayConfig, 'SSE_MAX_STREAMS_PER_KEY'>) {
    this.quota = new StreamQuota(config);
    this.max = config.SSE_MAX_STREAMS_PER_KEY;
  }

  /** Takes a slot (RATE_LIMITED when none is left); the returned function gives it back, once. */
  acquire(subject: LimitSubject): () => void {
    try {
      return this.quota.acquire(subject);
    } catch (error) {
      if (!isDomainError(error) || error.code !== ErrorCode.RateLimited) throw error;
      throw new DomainError(
        ErrorCode.RateLimited,
        `at most ${this.max} streamed answers per ${subject.noun} may be open at once (SSE_MAX_STREAMS_PER_KEY); wait for one to finish or retry later`,
      );
    }
  }
}
