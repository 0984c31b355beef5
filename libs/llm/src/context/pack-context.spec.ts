import { get_encoding } from 'tiktoken';
import type { Passage } from '../answer-generator.port';
import { ContextPacker } from './pack-context';

const passage = (index: number, text: string, score: number): Passage => ({
  index,
  chunkId: `c${index}`,
  documentId: `d${index}`,
  filename: `f${index}.md`,
  text,
  score,
});

describe('ContextPacker', () => {
  const packer = new ContextPacker();
  const encoding = get_encoding('cl100k_base');
  afterAll(() => {
    packer.dispose();
    encoding.free();
  });
  const tokens = (text: string) => encoding.encode_ordinary(text).length;

  const vacation = 'Employees receive twenty seven days of paid vacation every calendar year, requested through the portal.';
  // The same passage from another copy of the document: other case and punctuation, same words.
  const vacationAgain = 'EMPLOYEES receive twenty seven days of paid vacation, every calendar year; requested through the portal';
  const parking = 'Parking spaces in the basement garage are assigned by the facilities team on a first come basis.';
  const travel = 'Train travel is reimbursed in second class; flights need approval from a director in advance.';

  it('orders by relevance, drops near-duplicates and renumbers citations', () => {
    const packed = packer.pack([passage(1, vacation, 0.9), passage(2, vacationAgain, 0.85), passage(3, parking, 0.5)], {
      budgetTokens: 1000,
      strategy: 'relevance',
    });
    expect(packed.passages.map((item) => item.chunkId)).toEqual(['c1', 'c3']);
    expect(packed.passages.map((item) => item.index)).toEqual([1, 2]);
    expect(packed.droppedAsDuplicates).toBe(1);
    expect(packed.usedTokens).toBe(tokens(vacation) + tokens(parking));
  });

  it('never exceeds the budget, truncating the last passage on a token boundary', () => {
    const budget = tokens(vacation) + 40;
    const long = `${travel} ${parking} ${travel.toUpperCase()}`;
    const packed = packer.pack([passage(1, vacation, 0.9), passage(2, long, 0.8)], { budgetTokens: budget, strategy: 'relevance', minTokensToTruncate: 10 });
    expect(packed.usedTokens).toBe(budget);
    expect(packed.truncated).toBe(1);
    const cut = packed.passages[1].text;
    expect(cut.endsWith('…')).toBe(true);
    expect(long.startsWith(cut.slice(0, -1))).toBe(true);
    expect(tokens(cut.slice(0, -1))).toBeLessThanOrEqual(40);
  });

  it('prefers a different passage over a similar better-scored one when diversity is asked for', () => {
    const similar = 'Employees receive twenty seven days of paid vacation each year and may carry five days over.';
    const input = [passage(1, vacation, 0.9), passage(2, similar, 0.7), passage(3, travel, 0.65)];
    expect(packer.pack(input, { budgetTokens: 1000, strategy: 'relevance', duplicateThreshold: 1 }).passages.map((item) => item.chunkId)).toEqual([
      'c1',
      'c2',
      'c3',
    ]);
    expect(packer.pack(input, { budgetTokens: 1000, strategy: 'diversity', duplicateThreshold: 1 }).passages.map((item) => item.chunkId)).toEqual([
      'c1',
      'c3',
      'c2',
    ]);
  });

  it('returns nothing for a budget smaller than the truncation minimum', () => {
    expect(packer.pack([passage(1, vacation, 1)], { budgetTokens: 5, strategy: 'both' }).passages).toEqual([]);
  });
});
