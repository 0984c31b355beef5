import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';

/**
 * Caps the progress streams a tenant holds open on this gateway process: each costs a socket and
 * a place in the poller's query, so one tenant cannot take them all.
 */
@Injectable()
export class StreamQuota {
  private readonly open = new Map<string, number>();
  private readonly max: number;

  constructor(@Inject(SERVICE_CONFIG) config: Pick<GatewayConfig, 'SSE_MAX_STREAMS_PER_TENANT'>) {
    this.max = config.SSE_MAX_STREAMS_PER_TENANT;
  }

  /** Takes a slot (RATE_LIMITED when the tenant has none left); the returned function gives it back, once. */
  acquire(tenantId: string): () => void {
    const count = this.open.get(tenantId) ?? 0;
    if (count >= this.max) {
      throw new DomainError(
        ErrorCode.RateLimited,
        `at most ${this.max} progress streams per tenant may be open at once (SSE_MAX_STREAMS_PER_TENANT); close one or retry later`,
      );
    }
    this.open.set(tenantId, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(tenantId) ?? 1) - 1;
      if (left > 0) this.open.set(tenantId, left);
      else this.open.delete(tenantId);
    };
  }

  openStreams(tenantId: string): number {
    return this.open.get(tenantId) ?? 0;
  }
}
