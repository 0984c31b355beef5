// A bracket holding numbers separated by commas/semicolons, or a range: [1], [1, 3], [2-4]. Adjacent
// brackets such as [1][2] are simply two matches.
const CITATION_GROUP = /\[\s*(\d+(?:\s*(?:[,;]|[-–])\s*\d+)*)\s*\]/g;
const MAX_RANGE_LENGTH = 20;

/**
 * The passage numbers an answer cites, ascending and without duplicates. Numbers that do not match a
 * passage that was offered are dropped: a model citing [7] of five passages has cited nothing real.
 */
export function parseCitedPassageIndexes(answer: string, validIndexes: Iterable<number>): number[] {
  const valid = new Set(validIndexes);
  const cited = new Set<number>();
  for (const match of answer.matchAll(CITATION_GROUP)) {
    for (const part of match[1].split(/[,;]/)) {
      for (const index of expandRange(part)) if (valid.has(index)) cited.add(index);
    }
  }
  return [...cited].sort((a, b) => a - b);
}

function expandRange(part: string): number[] {
  const [first, last] = part.split(/[-–]/).map((bound) => Number.parseInt(bound.trim(), 10));
  if (last === undefined) return [first];
  // A huge "range" is a typo or a year, not a citation; only its endpoints might be meant.
  if (last < first || last - first > MAX_RANGE_LENGTH) return [first, last];
  return Array.from({ length: last - first + 1 }, (_, offset) => first + offset);
}
