import type { PlanStep } from '@quarry/contracts';
import type { AnswerPlan, NumericOperation, Planner, QuestionAnalysis, ToolDescription } from '../judgements';

/** The calculator expression of each operation over variables v1..vn. */
const EXPRESSIONS: Record<Exclude<NumericOperation, 'none'>, (names: string[]) => string> = {
  difference: (names) => `${names[0]} - ${names[1]}`,
  sum: (names) => names.join(' + '),
  ratio: (names) => `${names[0]} / ${names[1]}`,
  percentage: (names) => `${names[0]} / ${names[1]} * 100`,
  average: (names) => `(${names.join(' + ')}) / ${names.length}`,
};
/** The widest search a list question or a broadened retry makes. */
const MAX_TOP_K = 50;

type PlanContext = Parameters<Planner['plan']>[3];

/**
 * Plans by rules (no model). A numeric question: one search per entity (the entity and the
 * measure), then the calculator over the figures those searches found (`{{s1}}` in an input is the
 * figure step s1 found). A comparison: one search per entity. A list: one wide search. A bare
 * expression: the calculator alone. On a refine round the searches are broadened: the entity alone
 * (figures are often stated without the measure's words) and twice as many passages.
 */
export class RulePlanner implements Planner {
  readonly name = 'rules';

  plan(question: string, analysis: QuestionAnalysis, tools: ToolDescription[], context: PlanContext): Promise<AnswerPlan> {
    const available = new Set(tools.map((tool) => tool.name));
    const broadened = context.previous !== undefined;
    const topK = Math.min(MAX_TOP_K, broadened ? context.topK * 2 : context.topK);
    return Promise.resolve(planFor(question, analysis, available, topK, broadened));
  }
}

function planFor(question: string, analysis: QuestionAnalysis, available: ReadonlySet<string>, topK: number, broadened: boolean): AnswerPlan {
  if (analysis.intent === 'calculation' && available.has('calculator')) {
    const expression = analysis.entities[0] ?? question;
    return { steps: [step('c1', 'calculator', { expression: expression.replaceAll(',', '') }, [], 'compute the expression')], reason: 'the question is arithmetic' };
  }
  if ((analysis.intent === 'numeric' || analysis.intent === 'comparison') && analysis.entities.length >= 2) {
    const searches = analysis.entities.map((entity, position) =>
      step(
        `s${position + 1}`,
        'search',
        { query: broadened || !analysis.measure ? entity : `${entity} ${analysis.measure}`, entity, topK },
        [],
        analysis.intent === 'numeric' ? `find the ${analysis.measure ?? 'figure'} of ${entity}` : `find what the documents say about ${entity}`,
      ),
    );
    const operation = analysis.operation && analysis.operation !== 'none' ? analysis.operation : undefined;
    if (analysis.intent !== 'numeric' || !operation || !available.has('calculator')) {
      return { steps: searches, reason: `one search per entity${broadened ? ', broadened' : ''}` };
    }
    const names = searches.map((_, position) => `v${position + 1}`);
    const variables = Object.fromEntries(searches.map((search, position) => [names[position], `{{${search.id}}}`]));
    const calculate = step('c1', 'calculator', { expression: EXPRESSIONS[operation](names), variables }, searches.map((search) => search.id), `compute the ${operation} of the figures found`);
    return { steps: [...searches, calculate], reason: `one search per entity${broadened ? ' (broadened)' : ''}, then the ${operation} by the calculator` };
  }
  if (analysis.intent === 'list') {
    return { steps: [step('s1', 'search', { query: question, topK: Math.min(MAX_TOP_K, topK * 3) }, [], 'gather passages across documents')], reason: 'one wide search for a list' };
  }
  return { steps: [step('s1', 'search', { query: question, topK }, [], 'find passages that answer the question')], reason: 'one search' };
}

function step(id: string, tool: string, input: Record<string, unknown>, dependsOn: string[], purpose: string): PlanStep {
  return { id, tool, input, dependsOn, purpose };
}
