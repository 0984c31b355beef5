import { MIN_SUPPORT_SHARE, passagesOfCitations, sentenceSupport, supportedShare } from './sentence-support';

describe('sentenceSupport', () => {
  const passages = [
    { index: 1, text: 'Employees get 31 days of paid vacation per calendar year. Unused days expire on March 31 of the next year.' },
    { index: 2, text: 'The rocket fuel is stored in the north hangar, behind the blast doors.' },
    { index: 3, text: 'Paid vacation requests go to the team lead two weeks ahead.' },
  ];

  it('names the cited passage that holds the sentence, per sentence', () => {
    const answer = 'Employees get 31 days of paid vacation per year [1]. The fuel is stored in the north hangar [2].';
    expect(sentenceSupport(answer, passages)).toEqual([
      { text: 'Employees get 31 days of paid vacation per year [1].', cited: [1], supportedBy: 1 },
      { text: 'The fuel is stored in the north hangar [2].', cited: [2], supportedBy: 2 },
    ]);
  });

  it('marks a sentence no cited passage supports, even when another passage would', () => {
    // Cites [2], but only [1] holds it: a wrong citation is no support.
    const [wrong] = sentenceSupport('Unused vacation days expire on March 31 [2].', passages);
    expect(wrong).toEqual({ text: 'Unused vacation days expire on March 31 [2].', cited: [2], supportedBy: null });
    // Cites nothing at all.
    expect(sentenceSupport('Unused vacation days expire on March 31.', passages)[0]).toMatchObject({ cited: [], supportedBy: null });
  });

  it('picks the cited passage sharing most of the sentence, and ignores markers of passages not offered', () => {
    const [sentence] = sentenceSupport('Employees get 31 days of paid vacation per calendar year [3][1][9].', passages);
    expect(sentence.cited).toEqual([1, 3, 9]);
    expect(sentence.supportedBy).toBe(1);
  });

  it('needs at least half of the content terms in the passage (the threshold is a real bound)', () => {
    // Content terms: employe, get, 31, day, paid, vacat, spaceship, launch → 6 of 8 in [1] (0.75).
    const mostly = 'Employees get 31 days of paid vacation, spaceship launch [1].';
    expect(sentenceSupport(mostly, passages)[0].supportedBy).toBe(1);
    // 2 of 7 (vacation, days) in [1]: below one half.
    const barely = 'Vacation days are cancelled after spaceship launches and comet sightings [1].';
    expect(sentenceSupport(barely, passages)[0].supportedBy).toBeNull();
    expect(sentenceSupport(barely, passages, { minShare: 0.25 })[0].supportedBy).toBe(1);
    expect(MIN_SUPPORT_SHARE).toBe(0.5);
  });

  it('gives a citation written after the full stop to the sentence before it', () => {
    const answer = 'Employees get 31 days of paid vacation. [1] The rocket fuel is in the north hangar. [2]';
    expect(sentenceSupport(answer, passages)).toEqual([
      { text: 'Employees get 31 days of paid vacation. [1]', cited: [1], supportedBy: 1 },
      { text: 'The rocket fuel is in the north hangar. [2]', cited: [2], supportedBy: 2 },
    ]);
  });

  it('reads ranges and lists of citations, and not years in brackets', () => {
    expect(sentenceSupport('Paid vacation requests go to the team lead [1-3].', passages)[0]).toEqual({
      text: 'Paid vacation requests go to the team lead [1-3].',
      cited: [1, 2, 3],
      supportedBy: 3,
    });
    expect(sentenceSupport('The policy dates from [2019] and covers paid vacation [1].', passages)[0].cited).toEqual([1]);
  });

  it('supports nothing without content terms, and nothing in an empty answer', () => {
    expect(sentenceSupport('Yes [1].', passages)).toEqual([{ text: 'Yes [1].', cited: [1], supportedBy: null }]);
    expect(sentenceSupport('', passages)).toEqual([]);
  });

  it('works from citation snippets, and measures the supported share', () => {
    const citations = [{ index: 1, snippet: 'The rocket fuel is stored in the north hangar.' }];
    const sentences = sentenceSupport('The rocket fuel is stored in the north hangar [1]. It is blue [1].', passagesOfCitations(citations));
    expect(sentences.map((sentence) => sentence.supportedBy)).toEqual([1, null]);
    expect(supportedShare(sentences)).toBe(0.5);
    expect(supportedShare([])).toBe(0);
  });
});
