import { Inject, Injectable } from '@nestjs/common';
import { type ApiKeyRole, hashApiKey, isWellFormedApiKey } from '@quarry/domain';
import type { Logger } from '@quarry/observability';
import { type ApiKeyRecord, ApiKeyRepository } from '@quarry/persistence';
import { LOGGER } from '@quarry/service-kit';
import { LRUCache } from 'lru-cache';

/** What a valid key stands for. */
export interface KeyIdentity {
  keyId: string;
  tenantId: string;
  role: ApiKeyRole;
}

interface CachedKey {
  identity: KeyIdentity;
  expiresAt: number | null;
  /** When Postgres last confirmed the key (0: to be confirmed again before the next use). */
  confirmedAt: number;
}

/**
 * How long a key confirmed by Postgres is trusted without asking again. Revocations reach every
 * gateway at once over Redis (RevocationBus); this bounds how stale a gateway can be if that
 * message is lost.
 */
export const KEY_CACHE_TTL_MS = 60_000;
/** `last_used_at` is written at most this often per key and gateway, off the request path. */
export const LAST_USED_EVERY_MS = 60_000;
const CACHE_MAX_KEYS = 10_000;

/**
 * Turns a presented key into the tenant and role it stands for, or undefined (malformed, unknown,
 * expired, revoked — callers answer all of them alike). A key whose checksum fails is refused
 * without a database lookup; a valid key is cached for KEY_CACHE_TTL_MS, so authentication costs
 * a hash and a map lookup per request. While Postgres cannot be reached, a key it confirmed before
 * stays usable (nobody can revoke a key while the database is down either), so an outage of the
 * database does not log every client out.
 */
@Injectable()
export class ApiKeyAuthenticator {
  private readonly cache = new LRUCache<string, CachedKey>({ max: CACHE_MAX_KEYS });
  private readonly lastUsedWritten = new LRUCache<string, number>({ max: CACHE_MAX_KEYS });
  // Bumped by every revocation: a lookup that was under way meanwhile may have read the key
  // before it was revoked, so its result is used once but not cached.
  private revocations = 0;

  constructor(
    private readonly keys: ApiKeyRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async authenticate(presented: string): Promise<KeyIdentity | undefined> {
    if (!isWellFormedApiKey(presented)) return undefined;
    const hash = hashApiKey(presented);
    const now = Date.now();
    let entry = this.cache.get(hash);
    if (!entry || now - entry.confirmedAt >= KEY_CACHE_TTL_MS) {
      const revocationsBefore = this.revocations;
      let record: ApiKeyRecord | undefined;
      try {
        record = await this.keys.findByHash(hash);
      } catch (error) {
        // Postgres is unreachable (or failing): a key it confirmed before is still good.
        if (!entry) throw error;
        return this.use(entry, now);
      }
      entry = record && !record.revokedAt ? this.entryOf(record, now) : undefined;
      if (!entry) this.cache.delete(hash);
      else if (revocationsBefore === this.revocations) this.cache.set(hash, entry);
    }
    return entry && this.use(entry, now);
  }

  /** A key was revoked (here or on another gateway): it is never used from the cache again. */
  evict(keyHash: string): void {
    this.revocations++;
    this.cache.delete(keyHash);
  }

  /** Revocations may have been missed (the Redis subscription was down): confirm every key again before its next use. */
  reconfirmAll(): void {
    this.revocations++;
    for (const entry of this.cache.values()) entry.confirmedAt = 0;
  }

  private entryOf(record: ApiKeyRecord, now: number): CachedKey {
    if (record.lastUsedAt && !this.lastUsedWritten.has(record.id)) this.lastUsedWritten.set(record.id, record.lastUsedAt.getTime());
    return {
      identity: { keyId: record.id, tenantId: record.tenantId, role: record.role },
      expiresAt: record.expiresAt ? record.expiresAt.getTime() : null,
      confirmedAt: now,
    };
  }

  private use(entry: CachedKey, now: number): KeyIdentity | undefined {
    if (entry.expiresAt !== null && entry.expiresAt <= now) return undefined;
    this.recordUse(entry.identity, now);
    return entry.identity;
  }

  private recordUse({ keyId, tenantId }: KeyIdentity, now: number): void {
    const written = this.lastUsedWritten.get(keyId);
    if (written !== undefined && now - written < LAST_USED_EVERY_MS) return;
    // Marked before the write, so a failing database is asked once a minute, not on every request.
    this.lastUsedWritten.set(keyId, now);
    this.keys.touchLastUsed(tenantId, keyId, new Date(now)).catch((error: unknown) => {
      this.logger.debug('could not record the use of an API key', { keyId, error: (error as Error).message });
    });
  }
}
