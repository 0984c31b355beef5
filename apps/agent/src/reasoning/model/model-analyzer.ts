import type OpenAI from 'openai';
import { type JudgementContext, QuestionAnalysis, type QuestionAnalyzer } from '../judgements';
import { type ModelJudgementOptions, noted, withFallback } from './fallback';
import { historyMessages } from './history';
import { completeStructured } from './structured-output';

const DEFAULT_TOOL_NAMES = ['search', 'calculator', 'database', 'document'];

export const ANALYZE_SYSTEM_PROMPT = [
  'You analyse a question asked of an assistant that answers from the user\'s documents, before it is answered.',
  'Decide:',
  '- intent: "lookup" (a fact stated in the documents), "comparison" (two or more things compared), "numeric" (figures from the documents combined by arithmetic: how many more, total, what percentage), "list" (items gathered across documents), "calculation" (arithmetic given in the question itself, nothing to look up), "chitchat" (greetings, thanks: nothing to look up).',
  '- complexity: "simple" when one search answers it, "complex" when it needs several searches or a tool.',
  '- needsRetrieval: whether the documents must be searched.',
  '- tools: the tools it needs beyond one search.',
  '- entities: the things the question is about, each to be searched on its own (for comparisons and figures of several things); for a calculation, the expression.',
  '- measure: what is measured for each entity ("employees", "revenue in 2023"), for numeric questions.',
  '- operation: "difference", "sum", "ratio", "percentage", "average" or "none", for numeric questions.',
  '- reason: one sentence saying why.',
  'When the question follows up on the conversation, resolve what it refers to from the earlier turns.',
].join('\n');

export interface ModelAnalyzerOptions extends ModelJudgementOptions<QuestionAnalyzer> {
  /** The tools the agent has; the analysis names no other. */
  toolNames?: string[];
  maxTokens?: number;
}

/** The question's analysis by the chat model (structured output, validated by QuestionAnalysis), else by the local rules. */
export class ModelAnalyzer implements QuestionAnalyzer {
  readonly name: string;
  private readonly toolNames: string[];

  constructor(private readonly options: ModelAnalyzerOptions) {
    this.name = `model:${options.chat.model}`;
    this.toolNames = options.toolNames ?? DEFAULT_TOOL_NAMES;
  }

  analyze(question: string, context: JudgementContext): Promise<QuestionAnalysis> {
    const { chat, fallback, onFallback } = this.options;
    return withFallback(
      'analyze',
      { chat, fallbackName: `${fallback.name} analyzer`, onFallback, signal: context.signal },
      async () => {
        const messages: OpenAI.ChatCompletionMessageParam[] = [
          { role: 'system', content: `${ANALYZE_SYSTEM_PROMPT}\nThe tools are: ${this.toolNames.join(', ')}.` },
          ...historyMessages(context.history),
          { role: 'user', content: `Question: ${question.trim()}` },
        ];
        const analysis = await completeStructured(
          chat,
          { schema: QuestionAnalysis, schemaName: 'question_analysis', messages, maxTokens: this.options.maxTokens ?? 400 },
          { purpose: 'analyze', signal: context.signal, onModelCall: context.onModelCall },
        );
        // A tool the agent does not have is a model's slip, not a reason to refuse the analysis.
        return { ...analysis, tools: analysis.tools.filter((tool) => this.toolNames.includes(tool)) };
      },
      async (note) => {
        const analysis = await fallback.analyze(question, context);
        return { ...analysis, reason: noted(note, analysis.reason) };
      },
    );
  }
}
