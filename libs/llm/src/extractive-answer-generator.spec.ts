import type { Passage } from './answer-generator.port';
import { ExtractiveAnswerGenerator } from './extractive-answer-generator';
import { NO_ANSWER_TEXT } from './no-answer';

function passage(index: number, text: string, filename = `doc-${index}.md`): Passage {
  return { index, chunkId: `chunk-${index}`, documentId: `doc-${index}`, filename, text, score: 1 / index };
}

async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const pieces: string[] = [];
  for await (const piece of stream) pieces.push(piece);
  return pieces;
}

const PASSAGES: Passage[] = [
  passage(1, 'Our office is open Monday to Friday. The team meets every morning at nine for a short stand-up.'),
  passage(
    2,
    'Refund policy\n\nCustomers can request a refund within 30 days of purchase. Refunds are paid back to the original payment method. Gift cards are not refundable.',
  ),
  passage(3, 'Shipping usually takes three to five business days. Express shipping is available for an extra fee.'),
];

describe('ExtractiveAnswerGenerator', () => {
  const generator = new ExtractiveAnswerGenerator();

  it('quotes the sentence that answers and cites only its passage', async () => {
    const result = await generator.generate('How many days do I have to request a refund?', PASSAGES);
    // Not "Shipping … takes … business days" ([3] shares only "days"), nor the weaker refund sentences.
    expect(result.answer).toBe('Customers can request a refund within 30 days of purchase [2].');
    expect(result.citedPassageIndexes).toEqual([2]);
    expect(result.model).toBe('local-extractive-v1');
  });

  it('cites passages by their own index, not their position', async () => {
    const renumbered = [passage(7, 'The warranty covers manufacturing defects for two years.'), passage(4, 'Our office is closed on Sundays.')];
    const result = await generator.generate('How long is the warranty?', renumbered);
    expect(result.answer).toBe('The warranty covers manufacturing defects for two years [7].');
    expect(result.citedPassageIndexes).toEqual([7]);
  });

  it('combines sentences from several passages when each answers part of the question, citing each', async () => {
    const result = await generator.generate('How long does express shipping take and what does a refund cost?', [
      passage(1, 'Express shipping takes one business day.'),
      passage(2, 'A refund costs nothing; the fee is waived.'),
      passage(3, 'Our mascot is a friendly otter.'),
    ]);
    expect(result.citedPassageIndexes).toEqual([1, 2]);
    expect(result.answer).toMatch(/Express shipping takes one business day \[1\]\./);
    expect(result.answer).toMatch(/A refund costs nothing; the fee is waived \[2\]\./);
  });

  it('does not repeat a sentence that neighbouring chunks share', async () => {
    const shared = 'Passwords must be rotated every ninety days.';
    const result = await generator.generate('How often must passwords be rotated?', [
      passage(1, `Security basics. ${shared}`),
      passage(2, `${shared} Old passwords cannot be reused.`),
    ]);
    expect(result.answer.split(shared.slice(0, -1))).toHaveLength(2);
    expect(result.citedPassageIndexes).toEqual([1]);
  });

  it('puts the higher-ranked passage first when two sentences match equally', async () => {
    const result = await generator.generate('When is the deadline?', [
      passage(1, 'The deadline is on Friday at noon.'),
      passage(2, 'The deadline is on Monday at noon.'),
    ]);
    expect(result.answer.startsWith('The deadline is on Friday at noon [1].')).toBe(true);
  });

  it('keeps the answer short even when passages are one long run-on sentence', async () => {
    const runOn = `The invoice total ${'includes many line items and taxes and fees '.repeat(40)}`;
    const result = await generator.generate('What does the invoice total include?', [passage(1, runOn)]);
    expect(result.answer.length).toBeLessThan(400);
    expect(result.answer).toMatch(/… \[1\]\.$/);
  });

  it('admits it found nothing when no sentence shares a term with the question', async () => {
    const result = await generator.generate('What is the capital of Australia?', PASSAGES);
    expect(result).toEqual({ answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: 'local-extractive-v1' });
  });

  it('admits it found nothing when there are no passages or the question has no terms', async () => {
    expect((await generator.generate('What is the refund policy?', [])).answer).toBe(NO_ANSWER_TEXT);
    expect((await generator.generate('what is it?', PASSAGES)).citedPassageIndexes).toEqual([]);
  });

  it('streams the same answer in several pieces', async () => {
    const question = 'How do refunds work and how long is shipping?';
    const { answer } = await generator.generate(question, PASSAGES);
    const pieces = await collect(generator.stream(question, PASSAGES));
    expect(pieces.length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe(answer);
  });

  it('streams the no-answer sentence too', async () => {
    expect((await collect(generator.stream('Who won the match?', PASSAGES))).join('')).toBe(NO_ANSWER_TEXT);
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(generator.generate('refund', PASSAGES, controller.signal)).rejects.toThrow(/abort/i);
    await expect(collect(generator.stream('refund', PASSAGES, controller.signal))).rejects.toThrow(/abort/i);
  });
});
