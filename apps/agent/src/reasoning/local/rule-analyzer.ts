import type { JudgementContext, NumericOperation, QuestionAnalysis, QuestionAnalyzer } from '../judgements';
import { connectedPhrases, namedEntities, remainingTerms } from './question-entities';

// The question kinds the rules recognise, first match wins. Each pattern is a phrase people use for
// that kind of question; the operation is the arithmetic the answer needs.
const NUMERIC_PATTERNS: ReadonlyArray<{ pattern: RegExp; operation: NumericOperation }> = [
  { pattern: /\bhow (?:many|much) (?:more|fewer|less|higher|lower|bigger|smaller|larger)\b/i, operation: 'difference' },
  { pattern: /\b(?:difference (?:between|in)|gap between)\b/i, operation: 'difference' },
  { pattern: /\bwhat (?:percentage|percent|share|proportion|fraction)\b|\bas a percentage\b|\bpercent(?:age)? of\b/i, operation: 'percentage' },
  { pattern: /\b(?:ratio (?:of|between)|how many times (?:more|bigger|larger|as))\b/i, operation: 'ratio' },
  { pattern: /\b(?:average|mean) (?:of|across|between)\b/i, operation: 'average' },
  { pattern: /\b(?:total|sum|combined|altogether|in all|together)\b/i, operation: 'sum' },
];
const COMPARISON = /\b(?:compare|comparison|versus|vs\.?|differ(?:ence|s)? between|which (?:is|has|was) (?:more|less|larger|smaller|higher|lower|better|worse|bigger|cheaper)|(?:more|less|larger|smaller|higher|lower|better|worse|bigger|cheaper) than)\b/i;
const LIST = /^\s*(?:list|enumerate|name (?:all|every|the))\b|\b(?:which|what) (?:documents|files|policies|items|products|steps|options)\b|\ball (?:the )?(?:documents|files|policies|items|products|steps|options)\b/i;
/** A question that is arithmetic already: digits and operators, nothing to look up. */
const BARE_ARITHMETIC = /^\s*(?:what(?:'s| is)\s+|compute\s+|calculate\s+)?([-+*/^().\d\s,%]+?)\s*\??\s*$/i;
const GREETING = /^\s*(?:hi|hello|hey|thanks|thank you|good (?:morning|afternoon|evening))\b[\s!.,]*$/i;
/** Words that ask for the operation, not for a thing to find. */
const OPERATION_WORDS = new Set([
  'many', 'much', 'more', 'fewer', 'less', 'higher', 'lower', 'bigger', 'smaller', 'larger', 'difference', 'between', 'gap', 'percentage',
  'percent', 'share', 'proportion', 'fraction', 'ratio', 'times', 'average', 'mean', 'total', 'sum', 'combined', 'altogether', 'together',
  'compare', 'comparison', 'versus', 'vs', 'better', 'worse', 'cheaper', 'has', 'have', 'had', 'does', 'did', 'list', 'all', 'across',
]);

/**
 * Analysis by rules (no model): numeric questions over several entities ("how many more …",
 * "total …", "what percentage …") and comparisons take the complex route, one search per entity
 * and, for numbers, the calculator; list questions gather across documents; bare arithmetic needs
 * no retrieval; everything else is a lookup on the simple route.
 */
export class RuleQuestionAnalyzer implements QuestionAnalyzer {
  readonly name = 'rules';

  analyze(question: string, _context?: JudgementContext): Promise<QuestionAnalysis> {
    return Promise.resolve(analyzeQuestion(question));
  }
}

export function analyzeQuestion(question: string): QuestionAnalysis {
  if (GREETING.test(question)) {
    return { intent: 'chitchat', complexity: 'simple', needsRetrieval: false, tools: [], entities: [], reason: 'a greeting: nothing to look up' };
  }
  const arithmetic = BARE_ARITHMETIC.exec(question);
  if (arithmetic && /\d/.test(arithmetic[1]) && /[-+*/^%]/.test(arithmetic[1])) {
    return {
      intent: 'calculation',
      complexity: 'complex',
      needsRetrieval: false,
      tools: ['calculator'],
      entities: [arithmetic[1].trim()],
      reason: 'the question is an arithmetic expression: computed, nothing to look up',
    };
  }

  const numeric = NUMERIC_PATTERNS.find(({ pattern }) => pattern.test(question));
  const entities = entitiesOf(question);
  if (numeric && entities.length >= 2) {
    const measure = remainingTerms(question, entities, OPERATION_WORDS).join(' ');
    return {
      intent: 'numeric',
      complexity: 'complex',
      needsRetrieval: true,
      tools: ['search', 'calculator'],
      entities,
      measure: measure || undefined,
      operation: numeric.operation,
      reason: `asks for a ${numeric.operation} of figures of ${entities.length} entities (${entities.join(', ')}): one search each, then the calculator`,
    };
  }
  if (COMPARISON.test(question) && entities.length >= 2) {
    const measure = remainingTerms(question, entities, OPERATION_WORDS).join(' ');
    return {
      intent: 'comparison',
      complexity: 'complex',
      needsRetrieval: true,
      tools: ['search'],
      entities,
      measure: measure || undefined,
      reason: `compares ${entities.length} entities (${entities.join(', ')}): one search each`,
    };
  }
  if (LIST.test(question)) {
    return {
      intent: 'list',
      complexity: 'complex',
      needsRetrieval: true,
      tools: ['search'],
      entities: [],
      reason: 'asks for a list: gathered across documents, one item per document',
    };
  }
  return { intent: 'lookup', complexity: 'simple', needsRetrieval: true, tools: ['search'], entities, reason: 'a single lookup: one retrieval, then the answer' };
}

/** Names in the question; failing two, the phrases its connectors join ("the north office and the south office"). */
function entitiesOf(question: string): string[] {
  const names = namedEntities(question);
  if (names.length >= 2) return names.slice(0, 8);
  const connected = /\b(?:between|of|for|does|do|did|is|are|was|were|has|have|had|compare)\b\s+(.+?)\s*\??$/i.exec(question);
  const phrases = connected ? connectedPhrases(connected[1]) : [];
  return phrases.length >= 2 ? phrases.slice(0, 8) : names;
}
