import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { StreamQuota } from './stream-quota';

describe('StreamQuota', () => {
  it('gives each tenant its own slots and refuses past them with RATE_LIMITED', () => {
    const quota = new StreamQuota({ SSE_MAX_STREAMS_PER_TENANT: 2 });
    quota.acquire('a');
    quota.acquire('a');
    expect(() => quota.acquire('a')).toThrow(expect.objectContaining({ code: ErrorCode.RateLimited }) as DomainError);
    expect(() => quota.acquire('b')).not.toThrow();
    expect([quota.openStreams('a'), quota.openStreams('b')]).toEqual([2, 1]);
  });

  it('frees a slot once per release, however often it is called', () => {
    const quota = new StreamQuota({ SSE_MAX_STREAMS_PER_TENANT: 2 });
    const release = quota.acquire('a');
    quota.acquire('a');
    release();
    release();
    expect(quota.openStreams('a')).toBe(1);
    quota.acquire('a');
    expect(() => quota.acquire('a')).toThrow(DomainError);
  });
});
