import porter2 from 'wink-porter2-stemmer';

/**
 * Word frequencies are Zipfian, so a few thousand distinct words cover most tokens of any corpus:
 * caching stems turns the regex-heavy Porter2 pass into a Map lookup for nearly every token.
 * The bound keeps memory flat when a corpus has a long tail (names, codes, typos).
 */
const MAX_CACHED_STEMS = 20_000;
const stemCache = new Map<string, string>();

/** Porter2 stem of a lowercased English word, memoised in a bounded cache. */
export function stem(lowercasedWord: string): string {
  const cached = stemCache.get(lowercasedWord);
  if (cached !== undefined) return cached;
  const stemmed = porter2(lowercasedWord);
  if (stemCache.size >= MAX_CACHED_STEMS) {
    // Evict the oldest entry (Map iterates in insertion order): O(1), and hot words come straight back.
    const oldest = stemCache.keys().next();
    if (!oldest.done) stemCache.delete(oldest.value);
  }
  stemCache.set(lowercasedWord, stemmed);
  return stemmed;
}

/** Number of cached stems; exposed so tests can check the cache stays bounded. */
export function cachedStemCount(): number {
  return stemCache.size;
}
