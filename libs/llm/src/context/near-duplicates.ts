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

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  const [small, large] = a.size <= b.size ? [a, b] : [b, a];
  for (const item of small) if (large.has(item)) shared++;
  return shared / (a.size + b.size - shared);
}
