import { MESSAGE_OVERHEAD_TOKENS, compressHistory } from './compress-history';
import type { ConversationTurn } from './conversation-turn';
import { countTokens } from './token-count';

const turn = (n: number, sentences = 6): ConversationTurn => ({
  question: `Question ${n} about the travel allowance for region ${n}?`,
  answer: Array.from({ length: sentences }, (_, index) => `Sentence ${index + 1} of answer ${n} explains the reimbursement rules for hotels and trains in region ${n}.`).join(' '),
  citedDocumentIds: [`doc-${n}`],
  citedFilenames: [`policy-${n}.md`],
});
const verbatimCost = (item: ConversationTurn) => countTokens(item.question) + countTokens(item.answer) + 2 * MESSAGE_OVERHEAD_TOKENS;

describe('compressHistory', () => {
  const turns = [1, 2, 3, 4, 5, 6].map((n) => turn(n));

  it('keeps everything verbatim when it fits, and counts what it keeps', () => {
    const total = turns.reduce((sum, item) => sum + verbatimCost(item), 0);
    const history = compressHistory(turns, total);
    expect(history.turns.map((item) => item.form)).toEqual(Array(6).fill('verbatim'));
    expect(history).toMatchObject({ usedTokens: total, dropped: 0 });
    expect(history.turns.map((item) => item.answer)).toEqual(turns.map((item) => item.answer));
  });

  it('keeps the latest turns verbatim, compresses older ones, drops the oldest, and stays within the budget', () => {
    const budget = verbatimCost(turns[5]) + verbatimCost(turns[4]) + 120;
    const history = compressHistory(turns, budget);
    const forms = history.turns.map((item) => item.form);
    expect(forms.slice(-2)).toEqual(['verbatim', 'verbatim']);
    expect(forms.slice(0, -2).every((form) => form !== 'verbatim')).toBe(true);
    expect(history.dropped).toBeGreaterThan(0);
    expect(history.dropped + history.turns.length).toBe(6);
    expect(history.usedTokens).toBeLessThanOrEqual(budget);
    expect(history.usedTokens).toBe(history.turns.reduce((sum, item) => sum + item.tokens, 0));
    // The kept stretch is the latest one, in order, with no gap.
    expect(history.turns.map((item) => item.question)).toEqual(turns.slice(history.dropped).map((item) => item.question));
    // A summary is the question and the answer's first sentence; citations survive every form.
    const summary = history.turns.find((item) => item.form === 'summary');
    expect(summary?.answer).toMatch(/^Sentence 1 of answer \d explains the reimbursement rules for hotels and trains in region \d\.$/);
    expect(history.turns.every((item) => item.citedDocumentIds.length === 1 && item.citedFilenames.length === 1)).toBe(true);
  });

  it('falls back to salient terms when even the first sentence does not fit, and to nothing when the question alone does not', () => {
    const long = { ...turn(9, 3), answer: `${'An extremely long-winded opening sentence about reimbursement of hotels, trains, taxis and meals '.repeat(4)}ends here. And more.` };
    const cost = (answer: string) => countTokens(long.question) + countTokens(answer) + 2 * MESSAGE_OVERHEAD_TOKENS;
    const history = compressHistory([long], cost('(about: reimbursement, hotels, trains, taxis, meals, extremely, long-winded, opening)') + 2);
    expect(history.turns).toHaveLength(1);
    expect(history.turns[0].form).toBe('terms');
    expect(history.turns[0].answer).toMatch(/^\(about: .*reimbursement/);
    expect(compressHistory([long], 5)).toEqual({ turns: [], usedTokens: 0, dropped: 1 });
    expect(compressHistory([], 100)).toEqual({ turns: [], usedTokens: 0, dropped: 0 });
  });

  it('compresses even the latest turn when it alone is over the budget', () => {
    const history = compressHistory([turn(1), turn(2)], verbatimCost(turn(2)) - 1);
    expect(history.turns.at(-1)?.form).not.toBe('verbatim');
    expect(history.usedTokens).toBeLessThan(verbatimCost(turn(2)));
  });

  it('uses the token counter it is given', () => {
    const words = (text: string) => text.split(/\s+/).filter(Boolean).length;
    const history = compressHistory(turns, 1000, words);
    expect(history.usedTokens).toBe(history.turns.reduce((sum, item) => sum + words(item.question) + words(item.answer) + 2 * MESSAGE_OVERHEAD_TOKENS, 0));
  });
});
