import { type CacheHandle, type TieredCache, cacheKeys } from '@quarry/cache';
import type { CompletionCache, CompletionRequest } from '@quarry/llm';
import { z } from 'zod';

const CachedCompletion = z.object({ text: z.string() });
type CachedCompletion = z.infer<typeof CachedCompletion>;

/**
 * Chat completions in the multi-level cache (kind `llm`: memory, Redis, Postgres), keyed by model,
 * messages and sampling parameters — the same request is sent to the model once per TTL, by any
 * agent replica, across restarts. Completions are not tenant-bound data in the key's sense: the
 * messages hold the tenant's passages, so only a request with exactly those passages finds it.
 */
export class LlmResponseCache implements CompletionCache {
  private readonly completions: CacheHandle<CachedCompletion>;

  constructor(cache: TieredCache, ttlMs: number) {
    this.completions = cache.kind<CachedCompletion>({
      name: 'llm',
      tiers: ['memory', 'redis', 'postgres'],
      ttlMs: { memory: ttlMs, redis: ttlMs, postgres: ttlMs },
      parse: (raw) => CachedCompletion.parse(raw),
    });
  }

  async get(request: CompletionRequest): Promise<string | undefined> {
    return (await this.completions.get(cacheKeys.llm(request)))?.text;
  }

  async set(request: CompletionRequest, text: string): Promise<void> {
    await this.completions.set(cacheKeys.llm(request), { text });
  }
}
