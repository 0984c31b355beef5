import { tokenize } from '@quarry/domain';

/** Word 3-shingles of a text's normalised terms: two texts that share most shingles say the same thing. */
export function shingles(text: string): Set<string> {
  const terms = tokenize(text);
  const result = new Set<string>();
  if (terms.length < 3) {
    for (const term of terms) result.add(term);
    return result;
  }
  for (let index = 0; index + 3 <= terms.length; index++) result.add(terms.slice(index, index + 3).join(' '));
  return result;
}

/**
 * The same shingles as 32-bit hashes, sorted and without repeats: a twentieth of the memory of the
 * strings (they are kept per chunk, see PassageMeasures) and a merge instead of hash lookups to
 * compare. Two different shingles of two passages share a hash about once in four billion pairs.
 */
export function shingleHashes(text: string): Uint32Array {
  const hashes = Uint32Array.from(shingles(text), fnv1a).sort();
  let unique = 0;
  for (let index = 0; index < hashes.length; index++) if (index === 0 || hashes[index] !== hashes[unique - 1]) hashes[unique++] = hashes[index];
  return hashes.slice(0, unique);
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const item of small) if (large.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}

/** Jaccard similarity of two sorted, repeat-free hash arrays (shingleHashes). */
export function jaccardOfSorted(a: Uint32Array, b: Uint32Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let shared = 0;
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      shared++;
      i++;
      j++;
    } else if (a[i] < b[j]) i++;
    else j++;
  }
  return shared / (a.length + b.length - shared);
}

/** 32-bit FNV-1a over UTF-16 code units. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
