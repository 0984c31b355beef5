import { tokenize } from '@quarry/domain';
import { type GeneratedAnswer, NO_ANSWER_TEXT, type Passage, sentenceSupport, supportedShare } from '@quarry/llm';
import type { AnswerEvaluator, Evaluation } from '../judgements';

// How the three scores make the overall one: an unsupported answer is the worst failure.
const WEIGHTS = { groundedness: 0.5, coverage: 0.3, citationValidity: 0.2 };
const CITATION_GROUP = /\[\s*\d+(?:\s*(?:[,;]|[-–])\s*\d+)*\s*\]/g;

/**
 * The local evaluator (no model). Groundedness: the share of the answer's sentences a passage they
 * cite supports (sentenceSupport: the passage holds half of the sentence's content terms — the same
 * judgement the audit report shows). Coverage: the share of the question's content terms found in
 * the answer or its cited passages. Citation validity: the share of citation markers naming an
 * offered passage that shares a content term with their sentence. "Not found" scores 0: honest,
 * but worth another try.
 */
export class GroundingEvaluator implements AnswerEvaluator {
  readonly name = 'grounding-rules';

  evaluate(question: string, answer: GeneratedAnswer, passages: Passage[]): Promise<Evaluation> {
    return Promise.resolve(scoreAnswer(question, answer, passages));
  }
}

export function scoreAnswer(question: string, answer: GeneratedAnswer, passages: Passage[]): Evaluation {
  if (answer.answer.trim() === NO_ANSWER_TEXT || answer.answer.trim().length === 0) {
    return { groundedness: 0, coverage: 0, citationValidity: 0, overall: 0, reason: 'no answer was found in the passages' };
  }
  const termsOf = new Map(passages.map((passage) => [passage.index, new Set(tokenize(passage.text))]));
  const sentences = sentenceSupport(answer.answer, passages);
  const groundedness = supportedShare(sentences);

  let markers = 0;
  let valid = 0;
  for (const sentence of sentences) {
    const terms = tokenize(sentence.text.replace(CITATION_GROUP, ' '));
    for (const index of sentence.cited) {
      markers++;
      const passageTerms = termsOf.get(index);
      if (passageTerms && terms.some((term) => passageTerms.has(term))) valid++;
    }
  }
  const citationValidity = markers === 0 ? 0 : valid / markers;

  const questionTerms = [...new Set(tokenize(question))];
  const answerTerms = new Set([...tokenize(answer.answer), ...answer.citedPassageIndexes.flatMap((index) => [...(termsOf.get(index) ?? [])])]);
  const coverage = questionTerms.length === 0 ? 1 : questionTerms.filter((term) => answerTerms.has(term)).length / questionTerms.length;

  const overall = WEIGHTS.groundedness * groundedness + WEIGHTS.coverage * coverage + WEIGHTS.citationValidity * citationValidity;
  const supported = sentences.filter((sentence) => sentence.supportedBy !== null).length;
  return {
    groundedness,
    coverage,
    citationValidity,
    overall,
    reason: `${supported} of ${sentences.length} sentences supported by a passage they cite; ${Math.round(coverage * 100)}% of the question's terms covered; ${valid} of ${markers} citations valid`,
  };
}
