import { turnsFromHistory, turnsFromMessages } from './conversation-turn';
import { resolveFollowUp } from './resolve-follow-up';

const HANDBOOK = '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
const TRAVEL = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const cite = (documentId: string, filename: string) => ({ index: 1, documentId, chunkId: documentId, filename, snippet: '…', score: 1, provenance: {} });

/** Turn 1 as the agent stores it: "What is the vacation policy?" answered from handbook.md. */
const vacation = turnsFromMessages([
  { role: 'user', content: 'What is the vacation policy?', citations: [] },
  {
    role: 'assistant',
    content: 'Every employee receives 31 days of paid vacation per calendar year [1]. Unused vacation days expire at the end of March of the following year [1].',
    citations: [cite(HANDBOOK, 'handbook.md')],
  },
]);

describe('resolveFollowUp', () => {
  it('makes "How many days of it can be carried over?" a vacation query preferring the handbook', () => {
    const resolved = resolveFollowUp('How many days of it can be carried over?', vacation);
    expect(resolved.isFollowUp).toBe(true);
    expect(resolved.standalone.startsWith('How many days of it can be carried over? ')).toBe(true);
    const added = resolved.standalone.slice('How many days of it can be carried over? '.length).split(' ');
    // The previous question's words first (they weigh most), no repeat of the question's own "days".
    expect(added.slice(0, 2)).toEqual(['vacation', 'policy']);
    expect(added).not.toContain('days');
    expect(added).not.toContain('31');
    expect(resolved.preferredDocumentIds).toEqual([HANDBOOK]);
    expect(resolved.reason).toMatch(/refers back \("it"\).*vacation policy.*1 cited document/);
  });

  it.each([
    ['Does that apply to contractors?', 'refers back ("that")'],
    ['Do they get paid for those days?', 'refers back ("they")'],
    ['Tell me more', 'continues the previous turn ("tell me more")'],
    ['What about part-time staff?', 'continues the previous turn ("what about")'],
    ['And the deadline?', 'continues the previous turn ("and")'],
    ['Why?', 'has no content terms of its own'],
    ['Managers?', 'is too short to stand alone (1 words)'],
    ['Who approves it?', 'refers back ("it")'],
    ['How do I get there?', 'has no content terms of its own'],
    ['What are the opening hours there?', 'refers back ("there")'],
  ])('%s → a follow-up (%s)', (question, reason) => {
    const resolved = resolveFollowUp(question, vacation);
    expect({ isFollowUp: resolved.isFollowUp, reason: resolved.reason.split(':')[0] }).toEqual({ isFollowUp: true, reason });
    expect(resolved.standalone).toContain('vacation');
    expect(resolved.preferredDocumentIds).toEqual([HANDBOOK]);
  });

  it.each([
    'Which committee reviews the travel policy for international trips?',
    'Is there a dress code for the Berlin office?',
    'Who is the manager that approves expense reports?',
    'Is it possible to work remotely from another country for two months?',
  ])('leaves a question that stands alone unchanged: %s', (question) => {
    expect(resolveFollowUp(question, vacation)).toEqual({ standalone: question, isFollowUp: false, preferredDocumentIds: [], reason: 'stands alone' });
  });

  it('changes nothing without an earlier turn', () => {
    expect(resolveFollowUp('How many days of it can be carried over?', [])).toEqual({
      standalone: 'How many days of it can be carried over?',
      isFollowUp: false,
      preferredDocumentIds: [],
      reason: 'no earlier turn',
    });
  });

  it('reaches back a turn when the previous question names little, and prefers the latest cited documents', () => {
    const turns = [
      ...vacation,
      ...turnsFromMessages([
        { role: 'user', content: 'And for managers?', citations: [] },
        { role: 'assistant', content: 'Managers receive 35 days [1].', citations: [cite(TRAVEL, 'managers.md')] },
      ]),
    ];
    const resolved = resolveFollowUp('Tell me more', turns);
    expect(resolved.isFollowUp).toBe(true);
    expect(resolved.standalone).toMatch(/^Tell me more .*managers.*/);
    expect(resolved.standalone).toContain('vacation');
    expect(resolved.preferredDocumentIds).toEqual([TRAVEL]);
  });

  it('works from a text-only history (OpenAI-compatible API), the sources read from its list', () => {
    const turns = turnsFromHistory([
      { role: 'user', content: 'What is the vacation policy?' },
      { role: 'assistant', content: `Every employee receives 31 days of paid vacation [1].\n\nSources:\n[1] handbook.md (${HANDBOOK})` },
    ]);
    const resolved = resolveFollowUp('How many days of it can be carried over?', turns);
    expect(resolved).toMatchObject({ isFollowUp: true, preferredDocumentIds: [HANDBOOK] });
    expect(resolved.standalone).toContain('vacation policy');
  });
});
