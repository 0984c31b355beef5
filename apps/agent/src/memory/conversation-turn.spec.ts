import { historyOfTurns, turnsFromHistory, turnsFromMessages } from './conversation-turn';
import { parseSourcesOf } from './cited-sources';

const HANDBOOK = '3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b';
const POLICY = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const citation = (documentId: string, filename: string) => ({ index: 1, documentId, chunkId: documentId, filename, snippet: '…', score: 1, provenance: {} });

describe('turnsFromMessages', () => {
  it('pairs each question with its answer and keeps the cited documents, first cited first and once', () => {
    const turns = turnsFromMessages([
      { role: 'user', content: 'What is the vacation policy?', citations: [] },
      { role: 'assistant', content: 'Employees get 31 days [1][2].', citations: [citation(HANDBOOK, 'handbook.md'), citation(POLICY, 'policy.pdf'), citation(HANDBOOK, 'handbook.md')] },
      { role: 'user', content: 'And sick leave?', citations: [] },
      { role: 'assistant', content: 'Not found.', citations: [{ unrelated: true }, null] },
    ]);
    expect(turns).toEqual([
      { question: 'What is the vacation policy?', answer: 'Employees get 31 days [1][2].', citedDocumentIds: [HANDBOOK, POLICY], citedFilenames: ['handbook.md', 'policy.pdf'] },
      { question: 'And sick leave?', answer: 'Not found.', citedDocumentIds: [], citedFilenames: [] },
    ]);
  });

  it('keeps a question without an answer and an answer without a question as turns of their own', () => {
    const turns = turnsFromMessages([
      { role: 'assistant', content: 'Hello.', citations: [] },
      { role: 'user', content: 'First?', citations: [] },
      { role: 'user', content: 'Second?', citations: [] },
    ]);
    expect(turns.map((turn) => [turn.question, turn.answer])).toEqual([
      ['', 'Hello.'],
      ['First?', ''],
      ['Second?', ''],
    ]);
    expect(historyOfTurns(turns)).toEqual([
      { role: 'assistant', content: 'Hello.' },
      { role: 'user', content: 'First?' },
      { role: 'user', content: 'Second?' },
    ]);
  });
});

describe('turnsFromHistory (text only, as the OpenAI-compatible API sends it)', () => {
  it('reads the cited sources from the "Sources:" list and strips it from the answer', () => {
    const turns = turnsFromHistory([
      { role: 'user', content: 'What is the vacation policy?' },
      { role: 'assistant', content: `Employees get 31 days of paid vacation [1].\n\nSources:\n[1] handbook.md (${HANDBOOK})\n[2] policy.pdf (${POLICY})` },
    ]);
    // [2] is listed but not cited by a marker: not a source of this answer.
    expect(turns).toEqual([{ question: 'What is the vacation policy?', answer: 'Employees get 31 days of paid vacation [1].', citedDocumentIds: [HANDBOOK], citedFilenames: ['handbook.md'] }]);
  });

  it('has no cited sources without a list', () => {
    expect(turnsFromHistory([{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Hello! I can answer from your documents [1].' }])[0]).toMatchObject({ citedDocumentIds: [], citedFilenames: [] });
  });
});

describe('parseSourcesOf', () => {
  it('reads markdown, numbered and bulleted lists, with or without ids', () => {
    expect(parseSourcesOf('Answer [1] and [2].\n\n**Sources:**\n1. handbook.md, p. 3\n2. Travel Policy 2024').filenames).toEqual(['handbook.md', 'Travel Policy 2024']);
    expect(parseSourcesOf(`Answer [2].\n### References\n- [1] a.md — ${HANDBOOK}\n- [2] b.docx — ${POLICY}`)).toEqual({ text: 'Answer [2].', documentIds: [POLICY], filenames: ['b.docx'] });
    expect(parseSourcesOf('Answer without markers.\nSources: [1] a.md; [2] b.md')).toEqual({ text: 'Answer without markers.', documentIds: [], filenames: ['a.md', 'b.md'] });
  });

  it('takes the list after the sources heading, not prose that mentions sources', () => {
    expect(parseSourcesOf('Our sources: the staff. We pay 31 days [1].\nSources:\n[1] handbook.md')).toEqual({ text: 'Our sources: the staff. We pay 31 days [1].', documentIds: [], filenames: ['handbook.md'] });
    expect(parseSourcesOf('No list here [1].')).toEqual({ text: 'No list here [1].', documentIds: [], filenames: [] });
  });
});
