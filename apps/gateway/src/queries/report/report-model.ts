import type { QueryTrace, TraceStep } from '@quarry/contracts';

// What an audit report says, apart from how it is written: the Markdown and HTML renderers both
// read this, so the two formats cannot disagree. Every string here is plain text, unescaped (much
// of it comes from documents and models): escaping is the renderer's job.

/** One value of a report: prose, or data shown verbatim (tool inputs, plans). */
export type ReportValue = { text: string } | { code: string };

export interface ReportField {
  label: string;
  value: ReportValue;
}

export interface ReportStep {
  /** When, from the start of the query: "+12.5 ms". */
  at: string;
  /** What happened, in a few words: "Tool call: search (ok)". */
  title: string;
  fields: ReportField[];
}

export interface ReportSource {
  index: number;
  filename: string;
  snippet: string;
  documentId: string;
  score: string;
}

export interface ReportSentence {
  text: string;
  cited: number[];
  /** The supporting passage's citation number and file, or null: no passage supports the sentence. */
  support: { index: number; filename: string } | null;
}

export interface AuditReport {
  title: string;
  summary: ReportField[];
  answer: string;
  evaluation: ReportField[];
  steps: ReportStep[];
  sources: ReportSource[];
  sentences: ReportSentence[];
}

/** The mark a sentence without a supporting passage gets, in both formats. */
export const NO_SUPPORT = 'no supporting passage';

const ms = (value: number) => `${Math.round(value * 10) / 10} ms`;
const score = (value: number) => value.toFixed(2);
const text = (value: string): ReportValue => ({ text: value });
const code = (value: unknown): ReportValue => ({ code: JSON.stringify(value) ?? 'undefined' });
const field = (label: string, value: ReportValue): ReportField => ({ label, value });

export function auditReport(trace: QueryTrace): AuditReport {
  const filenameOf = new Map(trace.citations.map((citation) => [citation.index, citation.filename]));
  const summary = [
    field('Query', text(trace.queryId)),
    field('Conversation', text(trace.conversationId)),
    field('Question', text(trace.question)),
    ...(trace.standaloneQuestion !== undefined ? [field('Standalone question', text(trace.standaloneQuestion))] : []),
    field('Answered by', text(trace.source === 'answer-cache' ? 'the answer cache' : 'the agent')),
    field('Route', text(trace.route ?? 'none')),
    field('Generator', text(trace.generator)),
    field('Started', text(trace.startedAt)),
    field('Duration', text(ms(trace.durationMs))),
    field('Refinements', text(String(trace.refinements))),
    field('Tokens', text(`${trace.usage.promptTokens} prompt + ${trace.usage.completionTokens} completion = ${trace.usage.totalTokens}`)),
  ];
  const evaluation = trace.evaluation
    ? [
        field('Groundedness', text(score(trace.evaluation.groundedness))),
        field('Coverage', text(score(trace.evaluation.coverage))),
        field('Citation validity', text(score(trace.evaluation.citationValidity))),
        field('Overall', text(score(trace.evaluation.overall))),
      ]
    : [];
  return {
    title: `Audit report of query ${trace.queryId}`,
    summary,
    answer: trace.answer,
    evaluation,
    steps: trace.steps.map(describeStep),
    sources: trace.citations.map((citation) => ({
      index: citation.index,
      filename: citation.filename,
      snippet: citation.snippet,
      documentId: citation.documentId,
      score: score(citation.score),
    })),
    sentences: trace.sentences.map((sentence) => ({
      text: sentence.text,
      cited: sentence.cited,
      support: sentence.supportedBy === null ? null : { index: sentence.supportedBy, filename: filenameOf.get(sentence.supportedBy) ?? 'unknown source' },
    })),
  };
}

function describeStep(step: TraceStep): ReportStep {
  const at = `+${ms(step.atMs)}`;
  switch (step.type) {
    case 'node':
      return { at, title: `Node ${step.node} (${step.outcome})`, fields: [field('Duration', text(ms(step.durationMs)))] };
    case 'decision':
      return { at, title: `Decision in ${step.node}: ${step.decision}`, fields: [field('Why', text(step.reason))] };
    case 'plan':
      return {
        at,
        title: `Plan, round ${step.round} (${step.steps.length} step${step.steps.length === 1 ? '' : 's'})`,
        fields: [
          field('Why', text(step.reason)),
          ...step.steps.map((planned) =>
            field(
              `Step ${planned.id}`,
              code({ tool: planned.tool, input: planned.input, dependsOn: planned.dependsOn, purpose: planned.purpose }),
            ),
          ),
        ],
      };
    case 'tool':
      return {
        at,
        title: `Tool call: ${step.tool} (${step.outcome})`,
        fields: [
          ...(step.stepId !== undefined ? [field('Plan step', text(step.stepId))] : []),
          field('Input', code(step.input)),
          field('Result', text(step.summary)),
          field('Duration', text(ms(step.durationMs))),
        ],
      };
    case 'model':
      return {
        at,
        title: `Model call: ${step.model} (${step.purpose})`,
        fields: [
          field('Tokens', text(`${step.promptTokens} prompt + ${step.completionTokens} completion`)),
          field('Duration', text(ms(step.durationMs))),
        ],
      };
    case 'evaluation':
      return {
        at,
        title: `Evaluation, round ${step.round} (${step.evaluator})`,
        fields: [
          field(
            'Scores',
            text(
              `groundedness ${score(step.scores.groundedness)}, coverage ${score(step.scores.coverage)}, citation validity ${score(step.scores.citationValidity)}, overall ${score(step.scores.overall)} (threshold ${score(step.threshold)})`,
            ),
          ),
        ],
      };
    case 'refinement':
      return {
        at,
        title: `Refinement ${step.round}: ${step.action}`,
        fields: [...(step.query !== undefined ? [field('Query', text(step.query))] : []), field('Why', text(step.reason))],
      };
  }
}
