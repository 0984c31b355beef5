import { contentWords, salientTerms } from './salient-terms';

describe('contentWords', () => {
  it('leaves out stop words, question fillers and anaphors, and knows inflections as one word', () => {
    expect(contentWords("How many of them can be carried over into next year's budget?").map((word) => word.word)).toEqual(['carried', 'next', 'year', 'budget']);
    const [one, two] = contentWords('vacation vacations');
    expect(one.stem).toBe(two.stem);
    expect(contentWords('Tell me more about it, please.')).toEqual([]);
    expect(contentWords('Is 2024 in COVID-19 rules?').map((word) => word.word)).toEqual(['2024', 'covid-19', 'rules']);
  });
});

describe('salientTerms', () => {
  it('weighs occurrences, caps repeats, skips numbers and excluded stems when asked', () => {
    const terms = salientTerms(
      [
        { text: 'What is the vacation policy?', weight: 3 },
        { text: 'Employees receive 31 days of paid vacation. Vacation days vacation days expire.', weight: 1, maxOccurrences: 2, skipNumbers: true },
      ],
      4,
      new Set(contentWords('How many days?').map((word) => word.stem)),
    );
    expect(terms).toEqual(['vacation', 'policy', 'employees', 'receive']);
    expect(salientTerms([{ text: 'b a a', weight: 1 }], 5)).toEqual([]);
    expect(salientTerms([{ text: 'beta alpha alpha', weight: 1 }], 5)).toEqual(['alpha', 'beta']);
  });
});
