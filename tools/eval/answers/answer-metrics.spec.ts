import { type AnswerObservation, relevantDocuments, scoreCitations, summarizeAnswers } from './answer-metrics';

const qrels = new Map<string, Map<string, number>>([
  ['q1', new Map([['d1', 1], ['d2', 1]])],
  ['q2', new Map([['d3', 1], ['d9', 0]])],
  ['q3', new Map([['d4', 2]])],
]);

const observation = (queryId: string, citedDocuments: string[], extra: Partial<AnswerObservation> = {}): AnswerObservation => ({
  queryId,
  citedDocuments,
  latencyMs: 10,
  ...extra,
});

describe('relevantDocuments', () => {
  it('keeps only documents judged above 0', () => {
    expect([...relevantDocuments(qrels.get('q2'))]).toEqual(['d3']);
    expect(relevantDocuments(undefined).size).toBe(0);
  });
});

describe('scoreCitations', () => {
  it('folds chunks of one document and scores documents', () => {
    // d1 cited through two chunks: one relevant document out of two cited.
    expect(scoreCitations(['d1', 'd1', 'd7'], new Set(['d1', 'd2']))).toEqual({ precision: 0.5, recall: 0.5, cited: 2, relevantCited: 1 });
  });

  it('leaves precision undefined and recall 0 when nothing is cited', () => {
    expect(scoreCitations([], new Set(['d1']))).toEqual({ precision: undefined, recall: 0, cited: 0, relevantCited: 0 });
  });

  it('gives recall 1 when every relevant document is cited', () => {
    expect(scoreCitations(['d2', 'd1', 'd5', 'd6'], new Set(['d1', 'd2']))).toMatchObject({ precision: 0.5, recall: 1 });
  });
});

describe('summarizeAnswers', () => {
  it('averages precision over answers that cite, recall over all, and micro precision over all citations', () => {
    const summary = summarizeAnswers(
      [
        observation('q1', ['d1', 'd8']), // P 0.5, R 0.5
        observation('q2', ['d3']), // P 1, R 1
        observation('q3', []), // no P, R 0
      ],
      [{ queryId: 'q4', error: 'HTTP 500' }],
      qrels,
    );
    expect(summary.citationPrecision).toBeCloseTo(0.75);
    expect(summary.citationPrecisionMicro).toBeCloseTo(2 / 3);
    expect(summary.citationRecall).toBeCloseTo(0.5);
    expect(summary.withoutCitations).toBe(1);
    expect(summary).toMatchObject({ answered: 3, failed: 1 });
  });

  it('reports absent reply fields as n/a, not as zeros', () => {
    const summary = summarizeAnswers([observation('q1', ['d1']), observation('q2', ['d3'])], [], qrels);
    expect(summary.groundedness).toBeUndefined();
    expect(summary.groundednessReported).toBe(0);
    expect([...summary.routes]).toEqual([['n/a', 2]]);
    expect([...summary.refinements]).toEqual([['n/a', 2]]);
  });

  it('counts routes and refinement rounds (ascending) and averages groundedness where present', () => {
    const summary = summarizeAnswers(
      [
        observation('q1', ['d1'], { route: 'simple', refinements: 2, groundedness: 0.5 }),
        observation('q2', ['d3'], { route: 'complex', refinements: 0, groundedness: 1 }),
        observation('q3', ['d4'], { route: 'simple', refinements: 0 }),
      ],
      [],
      qrels,
    );
    expect(summary.groundedness).toBeCloseTo(0.75);
    expect(summary.groundednessReported).toBe(2);
    expect([...summary.routes]).toEqual([['simple', 2], ['complex', 1]]);
    expect([...summary.refinements]).toEqual([['0', 2], ['2', 1]]);
  });

  it('takes nearest-rank latency percentiles', () => {
    const observations = Array.from({ length: 20 }, (_, index) => observation('q1', ['d1'], { latencyMs: index + 1 }));
    const summary = summarizeAnswers(observations, [], qrels);
    expect(summary.latencyP50Ms).toBe(10);
    expect(summary.latencyP95Ms).toBe(19);
  });

  it('has no figures, rather than zeros, when nothing was answered', () => {
    const summary = summarizeAnswers([], [{ queryId: 'q1', error: 'timeout' }], qrels);
    expect(summary).toMatchObject({ answered: 0, failed: 1, citationPrecision: undefined, citationRecall: undefined, latencyP50Ms: undefined });
  });
});
