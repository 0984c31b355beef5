import type { Passage } from './answer-generator.port';
import { ExtractiveAnswerGenerator } from './extractive-answer-generator';

const passage = (index: number, chunkId: string, text: string): Passage => ({ index, chunkId, documentId: `d-${chunkId}`, filename: `${chunkId}.md`, text, score: 1 - index / 10 });
const TEXTS = [
  'Employees receive 27 days of paid vacation per calendar year. Unused days expire at the end of March.',
  'Vacation requests are approved by the team lead. Requests go through the HR portal.',
  'Parking spaces in the basement garage are assigned by the facilities team. Bicycles go in the courtyard.',
  'Train travel is reimbursed in second class. Flights need approval from a director in advance.',
];
const QUESTIONS = ['How many vacation days do we get?', 'Who approves vacation?', 'Where do bicycles go?', 'Are flights reimbursed?', 'When do unused days expire?'];

describe('ExtractiveAnswerGenerator remembering passages between answers', () => {
  it('answers exactly as a generator that analyses every passage afresh', async () => {
    const remembering = new ExtractiveAnswerGenerator();
    for (let round = 0; round < 20; round++) {
      const question = QUESTIONS[round % QUESTIONS.length];
      const passages = [0, 1, 2, 3].map((offset, index) => {
        const chunk = (round + offset) % TEXTS.length;
        return passage(index + 1, `c${chunk}`, TEXTS[chunk]);
      });
      expect(await remembering.generate(question, passages)).toEqual(await new ExtractiveAnswerGenerator().generate(question, passages));
    }
  });

  it('analyses a chunk again when its text changed under the same id (a passage cut to the budget)', async () => {
    const generator = new ExtractiveAnswerGenerator();
    const full = await generator.generate('How many vacation days do we get?', [passage(1, 'c0', TEXTS[0])]);
    expect(full.answer).toContain('27 days');
    const cut = await generator.generate('How many vacation days do we get?', [passage(1, 'c0', 'Parking spaces are assigned by the facilities team.')]);
    expect(cut.answer).not.toContain('27 days');
  });
});
