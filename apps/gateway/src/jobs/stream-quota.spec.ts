import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { limitSubject } from '../limits/limit-subject';
import { StreamQuota } from './stream-quota';

const key = (keyId: string, tenantId = 'acme') => limitSubject({ tenantId, role: 'read', keyId, via: 'api-key' });
const proxied = (tenantId: string) => limitSubject({ tenantId, role: 'read', keyId: null, via: 'trusted-header' });

describe('StreamQuota', () => {
  it('gives each API key its own slots, even within one tenant, and refuses past them with RATE_LIMITED', () => {
    const quota = new StreamQuota({ SSE_MAX_STREAMS_PER_KEY: 2 });
    quota.acquire(key('k1'));
    quota.acquire(key('k1'));
    expect(() => quota.acquire(key('k1'))).toThrow(
      expect.objectContaining({
        code: ErrorCode.RateLimited,
        message: 'at most 2 progress streams per API key may be open at once (SSE_MAX_STREAMS_PER_KEY); close one or retry later',
      }) as DomainError,
    );
    expect(() => quota.acquire(key('k2'))).not.toThrow();
    expect([quota.openStreams(key('k1')), quota.openStreams(key('k2'))]).toEqual([2, 1]);
  });

  it('caps a tenant as a whole when an authenticating proxy vouches for it (no key)', () => {
    const quota = new StreamQuota({ SSE_MAX_STREAMS_PER_KEY: 1 });
    quota.acquire(proxied('acme'));
    expect(() => quota.acquire(proxied('acme'))).toThrow(expect.objectContaining({ message: expect.stringContaining('per tenant') as string }) as DomainError);
    expect(() => quota.acquire(proxied('globex'))).not.toThrow();
    // A key id never shares a counter with a tenant of the same name.
    expect(() => quota.acquire(key('acme'))).not.toThrow();
  });

  it('frees a slot once per release, however often it is called', () => {
    const quota = new StreamQuota({ SSE_MAX_STREAMS_PER_KEY: 2 });
    const release = quota.acquire(key('k1'));
    quota.acquire(key('k1'));
    release();
    release();
    expect(quota.openStreams(key('k1'))).toBe(1);
    quota.acquire(key('k1'));
    expect(() => quota.acquire(key('k1'))).toThrow(DomainError);
  });
});
