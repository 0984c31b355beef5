import { isStopWord } from './stop-words';

describe('isStopWord', () => {
  it('knows function words and contractions, not content words', () => {
    expect(isStopWord('the')).toBe(true);
    expect(isStopWord("don't")).toBe(true);
    expect(isStopWord('invoice')).toBe(false);
    expect(isStopWord('The')).toBe(false); // expects lowercased input
  });
});
