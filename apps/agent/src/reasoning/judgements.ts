import { type AnswerScores, type HistoryMessage, PlanStep, type SearchHit } from '@quarry/contracts';
import type { GeneratedAnswer, Passage } from '@quarry/llm';
import { z } from 'zod';

// The judgements the agent's graph makes. Each has two implementations: rules that need no model
// (reasoning/local, the default) and a chat model with structured outputs (reasoning/model).

export const QuestionIntent = z.enum(['lookup', 'comparison', 'numeric', 'list', 'calculation', 'chitchat']);
export type QuestionIntent = z.infer<typeof QuestionIntent>;

/** The arithmetic a numeric question asks for, over the figures found for its entities. */
export const NumericOperation = z.enum(['difference', 'sum', 'ratio', 'percentage', 'average', 'none']);
export type NumericOperation = z.infer<typeof NumericOperation>;

export const QuestionAnalysis = z.object({
  intent: QuestionIntent,
  complexity: z.enum(['simple', 'complex']),
  needsRetrieval: z.boolean(),
  /** The tools the question needs beyond one search. */
  tools: z.array(z.string()).max(10),
  /** The things the question is about, each searched on its own on the complex route (comparisons, figures of several entities). */
  entities: z.array(z.string().min(1).max(200)).max(8),
  /** What is measured for each entity ("employees", "revenue"), for numeric questions. */
  measure: z.string().max(200).optional(),
  operation: NumericOperation.optional(),
  reason: z.string().max(1000),
});
export type QuestionAnalysis = z.infer<typeof QuestionAnalysis>;

export const AnswerPlan = z.object({
  steps: z.array(PlanStep).min(1).max(12),
  reason: z.string().max(1000),
});
export type AnswerPlan = z.infer<typeof AnswerPlan>;

/** A plan step's outcome, what later steps and the synthesis see. */
export interface StepResult {
  step: PlanStep;
  outcome: 'ok' | 'error' | 'timeout' | 'refused';
  /** The input the tool was called with, placeholders resolved (absent when it did not run). */
  input?: Record<string, unknown>;
  /** The tool's output (validated by its schema) when it ran. */
  output?: unknown;
  /** Why it failed, readable. */
  error?: string;
}

export interface Evaluation extends AnswerScores {
  reason: string;
}

/** The tools a planner may use, as it is told about them. */
export interface ToolDescription {
  name: string;
  description: string;
  /** The input's JSON schema. */
  parameters: Record<string, unknown>;
}

/** Tokens and time of one model call, for the trace and the token metrics. */
export interface ModelCallRecord {
  model: string;
  purpose: string;
  promptTokens: number;
  completionTokens: number;
  durationMs: number;
}
export type ModelCallListener = (call: ModelCallRecord) => void;

export interface JudgementContext {
  /** The conversation so far (compressed), oldest first. */
  history: HistoryMessage[];
  signal: AbortSignal;
  /** Told of every model call the judgement makes (none for the local rules). */
  onModelCall: ModelCallListener;
}

export interface QuestionAnalyzer {
  readonly name: string;
  analyze(question: string, context: JudgementContext): Promise<QuestionAnalysis>;
}

export interface Planner {
  readonly name: string;
  /**
   * The steps that answer the question. `previous` is the last round's plan, results and
   * evaluation when the refine loop asks for a new plan.
   */
  plan(
    question: string,
    analysis: QuestionAnalysis,
    tools: ToolDescription[],
    context: JudgementContext & { topK: number; previous?: { plan: AnswerPlan; results: StepResult[]; evaluation: Evaluation } },
  ): Promise<AnswerPlan>;
}

export interface Synthesizer {
  readonly name: string;
  /** The answer from the step results; `passages` are the search results, numbered as the answer cites them. */
  synthesize(question: string, analysis: QuestionAnalysis, results: StepResult[], passages: Passage[], context: JudgementContext): Promise<GeneratedAnswer>;
}

export interface AnswerEvaluator {
  readonly name: string;
  evaluate(question: string, answer: GeneratedAnswer, passages: Passage[], context: JudgementContext): Promise<Evaluation>;
}

/** All four, as the graph is given them. */
export interface Judgements {
  analyzer: QuestionAnalyzer;
  planner: Planner;
  synthesizer: Synthesizer;
  evaluator: AnswerEvaluator;
}

/** Search hits as a search step returns them. */
export interface SearchStepOutput {
  query: string;
  hits: SearchHit[];
}
