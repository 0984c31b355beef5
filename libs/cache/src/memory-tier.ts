import { LRUCache } from 'lru-cache';

/** What L1 holds per kind, kept up to date by the LRU's dispose callback. */
export interface MemoryAccount {
  entries: number;
  bytes: number;
  evictions: number;
}

interface MemoryEntry {
  account: MemoryAccount;
  value: unknown;
  size: number;
}

/**
 * L1: one LRU for every kind of the process, bounded by bytes (each entry's `sizeOf`) and by
 * entries. Values are held as they are (no copy, no serialisation: a hit is a Map lookup), so
 * callers must not mutate what they get. Keys are `kind \0 key`.
 */
export class MemoryTier {
  private readonly lru: LRUCache<string, MemoryEntry>;
  readonly maxEntryBytes: number;

  constructor(maxBytes: number, maxEntries: number) {
    if (!(maxBytes >= 1)) throw new Error('memoryMaxBytes must be at least 1');
    this.maxEntryBytes = Math.floor(maxBytes);
    this.lru = new LRUCache<string, MemoryEntry>({
      max: maxEntries,
      maxSize: Math.floor(maxBytes),
      sizeCalculation: (entry) => entry.size,
      updateAgeOnGet: false,
      allowStale: false,
      dispose: (entry, _key, reason) => {
        entry.account.entries--;
        entry.account.bytes -= entry.size;
        if (reason === 'evict') entry.account.evictions++;
      },
    });
  }

  get(kind: string, key: string): unknown {
    return this.lru.get(`${kind}\u0000${key}`)?.value;
  }

  /** False when the entry is larger than L1 itself (then it is not held, and an older value is dropped). */
  set(account: MemoryAccount, kind: string, key: string, value: unknown, bytes: number, ttlMs: number | undefined): boolean {
    const size = Math.max(1, Math.ceil(bytes));
    const id = `${kind}\u0000${key}`;
    if (size > this.maxEntryBytes) {
      this.lru.delete(id);
      return false;
    }
    this.lru.set(id, { account, value, size }, ttlMs === undefined ? undefined : { ttl: ttlMs });
    account.entries++;
    account.bytes += size;
    return true;
  }

  delete(kind: string, key: string): void {
    this.lru.delete(`${kind}\u0000${key}`);
  }

  clearKind(kind: string): number {
    const prefix = `${kind}\u0000`;
    const ids: string[] = [];
    for (const id of this.lru.keys()) if (id.startsWith(prefix)) ids.push(id);
    for (const id of ids) this.lru.delete(id);
    return ids.length;
  }

  /** Drops expired entries (so entries/bytes gauges do not count them). */
  purgeStale(): void {
    this.lru.purgeStale();
  }

  clear(): void {
    this.lru.clear();
  }
}
