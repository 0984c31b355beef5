import { type GeneratedAnswer, NO_ANSWER_TEXT, type Passage, ExtractiveAnswerGenerator, parseCitedPassageIndexes } from '@quarry/llm';
import type { SearchHit } from '@quarry/contracts';
import { formatNumber } from '../../tools/calculator-tool';
import type { JudgementContext, QuestionAnalysis, StepResult, Synthesizer } from '../judgements';
import { findFigure } from './figures';

export const RULE_SYNTHESIZER_MODEL = 'local-synthesis-v1';
const GREETING_ANSWER = 'Hello! Ask me a question about your documents and I will answer with the passages I used.';
/** The words each operation's result is told with. */
const RESULT_PHRASES = {
  difference: 'The difference',
  sum: 'The total',
  ratio: 'The ratio',
  percentage: 'As a percentage',
  average: 'The average',
} as const;

/**
 * Writes the answer of a plan's results without a model. Figures: each entity's figure in the
 * sentence that states it, cited, then the calculator's result citing every figure's passage.
 * Comparisons: each entity's best sentences, cited. Lists: the best sentence of each document. A
 * figure or entity the documents do not give is said to be missing, never made up.
 */
export class RuleSynthesizer implements Synthesizer {
  readonly name = 'rules';
  private readonly extractive = new ExtractiveAnswerGenerator();

  async synthesize(question: string, analysis: QuestionAnalysis, results: StepResult[], passages: Passage[], context: JudgementContext): Promise<GeneratedAnswer> {
    if (analysis.intent === 'chitchat') return { answer: GREETING_ANSWER, citedPassageIndexes: [], model: RULE_SYNTHESIZER_MODEL };
    if (analysis.intent === 'calculation') return this.calculation(results);
    if (analysis.intent === 'numeric') return this.figures(analysis, results, passages);
    if (analysis.intent === 'comparison') return this.perEntity(analysis, results, passages, context.signal);
    if (analysis.intent === 'list') return this.perDocument(question, passages, context.signal);
    return this.extractive.generate(question, passages, context.signal);
  }

  private calculation(results: StepResult[]): GeneratedAnswer {
    const calculated = results.find((result) => result.step.tool === 'calculator');
    const output = calculated?.output as { expression: string; result: number } | undefined;
    const answer = output ? `${output.expression} = ${formatNumber(output.result)}.` : `I could not compute that: ${calculated?.error ?? 'no calculation ran'}.`;
    return { answer, citedPassageIndexes: [], model: RULE_SYNTHESIZER_MODEL };
  }

  private figures(analysis: QuestionAnalysis, results: StepResult[], passages: Passage[]): GeneratedAnswer {
    const sentences: string[] = [];
    const figureCitations: number[] = [];
    const missing: string[] = [];
    for (const search of searchesOf(results)) {
      const entity = entityOf(search);
      const figure = findFigure(hitsOf(search), entity, analysis.measure);
      const passage = figure && passageStating(passages, hitsOf(search), figure.sentence);
      if (!figure || !passage) {
        missing.push(entity);
        continue;
      }
      figureCitations.push(passage.index);
      sentences.push(cite(figure.sentence, [passage.index]));
    }
    const calculated = results.find((result) => result.step.tool === 'calculator');
    const output = calculated?.outcome === 'ok' ? (calculated.output as { expression: string; result: number }) : undefined;
    if (output && missing.length === 0 && analysis.operation && analysis.operation !== 'none') {
      const measure = analysis.measure ? ` (${analysis.measure})` : '';
      const suffix = analysis.operation === 'percentage' ? '%' : '';
      const computation = withFigures(output.expression, calculated?.input?.variables);
      sentences.push(cite(`${RESULT_PHRASES[analysis.operation]}${measure} of ${analysis.entities.join(' and ')} is ${formatNumber(output.result)}${suffix}, computed as ${computation}.`, figureCitations));
    } else if (missing.length > 0) {
      sentences.push(`Your documents give no ${analysis.measure ?? 'figure'} for ${missing.join(' or ')}, so I cannot compute the ${analysis.operation ?? 'result'}.`);
    }
    if (figureCitations.length === 0) return { answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: RULE_SYNTHESIZER_MODEL };
    return finished(sentences, passages);
  }

  private async perEntity(analysis: QuestionAnalysis, results: StepResult[], passages: Passage[], signal: AbortSignal): Promise<GeneratedAnswer> {
    const sentences: string[] = [];
    for (const search of searchesOf(results)) {
      const own = hitsOf(search)
        .map((hit) => passages.find((passage) => passage.chunkId === hit.chunkId))
        .filter((passage): passage is Passage => passage !== undefined);
      const entity = entityOf(search);
      const answer = await this.extractive.generate(`${entity} ${analysis.measure ?? ''}`, own, signal);
      sentences.push(answer.citedPassageIndexes.length > 0 ? answer.answer : `Your documents say nothing about ${entity}.`);
    }
    return finished(sentences, passages);
  }

  private async perDocument(question: string, passages: Passage[], signal: AbortSignal): Promise<GeneratedAnswer> {
    const byDocument = new Map<string, Passage[]>();
    for (const passage of passages) byDocument.set(passage.documentId, [...(byDocument.get(passage.documentId) ?? []), passage]);
    const sentences: string[] = [];
    for (const own of byDocument.values()) {
      const answer = await this.extractive.generate(question, own, signal);
      if (answer.citedPassageIndexes.length > 0) sentences.push(`${own[0].filename}: ${answer.answer}`);
    }
    if (sentences.length === 0) return { answer: NO_ANSWER_TEXT, citedPassageIndexes: [], model: RULE_SYNTHESIZER_MODEL };
    return finished(sentences, passages);
  }
}

/** The expression with its variables replaced by the figures they stood for ("v1 - v2" → "1,250 - 830"). */
function withFigures(expression: string, variables: unknown): string {
  if (!variables || typeof variables !== 'object') return expression;
  return Object.entries(variables as Record<string, unknown>).reduce(
    (text, [name, value]) => (typeof value === 'number' ? text.replace(new RegExp(`\\b${name}\\b`, 'g'), formatNumber(value)) : text),
    expression,
  );
}

function searchesOf(results: StepResult[]): StepResult[] {
  return results.filter((result) => result.step.tool === 'search' && result.outcome === 'ok');
}

function hitsOf(result: StepResult): SearchHit[] {
  return (result.output as { hits: SearchHit[] }).hits;
}

function entityOf(result: StepResult): string {
  const input = result.step.input as { entity?: string; query: string };
  return input.entity ?? input.query;
}

/** The passage, among a search's hits, whose text holds the sentence. */
function passageStating(passages: Passage[], hits: SearchHit[], sentence: string): Passage | undefined {
  const chunkIds = new Set(hits.map((hit) => hit.chunkId));
  return passages.find((passage) => chunkIds.has(passage.chunkId) && passage.text.replace(/\s+/g, ' ').includes(sentence));
}

/** A sentence with its citation markers before the final punctuation. */
function cite(sentence: string, indexes: number[]): string {
  const markers = [...new Set(indexes)].map((index) => `[${index}]`).join('');
  const trimmed = sentence.trim();
  const ending = /[.!?]+["')\]]*$/.exec(trimmed);
  return ending ? `${trimmed.slice(0, ending.index)} ${markers}${ending[0]}` : `${trimmed} ${markers}.`;
}

function finished(sentences: string[], passages: Passage[]): GeneratedAnswer {
  const answer = sentences.join(' ');
  return { answer, citedPassageIndexes: parseCitedPassageIndexes(answer, passages.map((passage) => passage.index)), model: RULE_SYNTHESIZER_MODEL };
}
