import { type AnswerSummary, NOT_REPORTED } from './answer-metrics';

export interface ReportColumn {
  name: string;
  summary: AnswerSummary | undefined;
  /** Why there are no figures (the variant was refused). */
  unsupported?: string;
}

export const METRIC_DEFINITIONS = [
  'R(q) = documents judged relevant for query q (qrels score > 0); C(q) = distinct documents of the chunks the answer cites.',
  'citation precision (macro) = mean over queries with C(q) non-empty of |C(q) ∩ R(q)| / |C(q)|',
  'citation precision (micro) = Σ|C(q) ∩ R(q)| / Σ|C(q)| over all answered queries',
  'citation recall (macro)    = mean over all answered queries of |C(q) ∩ R(q)| / |R(q)| (0 when nothing is cited)',
  'groundedness               = mean of the reply’s evaluation.groundedness (the agent’s own evaluator) where present',
  'latency                    = wall time of POST /api/query seen by this client, nearest-rank p50/p95',
];

const fixed = (value: number | undefined, digits = 4) => (value === undefined ? NOT_REPORTED : value.toFixed(digits));
const counts = (map: Map<string, number>) => [...map.entries()].map(([key, value]) => `${key}: ${value}`).join(', ') || NOT_REPORTED;

function cells(column: ReportColumn): string[] {
  const s = column.summary;
  // The refusal itself is printed under the table: a cell holds only that there are no figures.
  if (!s) return [`${NOT_REPORTED} (${column.unsupported === undefined ? 'not run' : 'request refused'})`, ...Array<string>(9).fill(NOT_REPORTED)];
  return [
    `${s.answered} / ${s.failed}`,
    fixed(s.citationPrecision),
    fixed(s.citationPrecisionMicro),
    String(s.withoutCitations),
    fixed(s.citationRecall),
    s.groundedness === undefined ? `${NOT_REPORTED} (0 of ${s.answered} replies)` : `${fixed(s.groundedness)} (${s.groundednessReported} of ${s.answered} replies)`,
    counts(s.routes),
    counts(s.refinements),
    fixed(s.latencyP50Ms, 1),
    fixed(s.latencyP95Ms, 1),
  ];
}

const ROW_LABELS = [
  'answered / failed',
  'citation precision (macro)',
  'citation precision (micro)',
  'answers citing nothing',
  'citation recall (macro)',
  'groundedness (mean)',
  'routes',
  'refinements (rounds: answers)',
  'latency p50 ms',
  'latency p95 ms',
];

/** The figures side by side, one column per variant. */
export function formatAnswerTable(columns: readonly ReportColumn[]): string {
  const body = columns.map(cells);
  const labelWidth = Math.max(...ROW_LABELS.map((label) => label.length)) + 2;
  const widths = columns.map((column, index) => Math.max(column.name.length, ...body[index].map((cell) => cell.length)) + 2);
  const line = (label: string, values: string[]) => label.padEnd(labelWidth) + values.map((value, index) => value.padEnd(widths[index])).join('');
  return [
    line('', columns.map((column) => column.name)),
    ...ROW_LABELS.map((label, row) => line(label, body.map((column) => column[row]))),
  ]
    .map((text) => text.trimEnd())
    .join('\n');
}

/** The requirement: the refine loop must not lower citation precision. */
export function refinePrecisionCheck(withLoop: AnswerSummary | undefined, withoutLoop: AnswerSummary | undefined): string {
  const a = withLoop?.citationPrecision;
  const b = withoutLoop?.citationPrecision;
  if (a === undefined || b === undefined) return `refine loop vs none, citation precision: ${NOT_REPORTED} (a side has no figure)`;
  const delta = a - b;
  const verdict = delta >= 0 ? 'OK, not lower' : 'LOWER with the refine loop';
  return `refine loop vs none, citation precision: ${a.toFixed(4)} vs ${b.toFixed(4)} (Δ ${delta >= 0 ? '+' : ''}${delta.toFixed(4)}): ${verdict}`;
}
