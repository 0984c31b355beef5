/**
 * Answer-level figures over BEIR judgements. A citation names a chunk; it is scored by the corpus
 * document the chunk belongs to, so two citations of one document count once.
 *
 * For a query q with relevant documents R (qrels score > 0) and cited documents C (distinct):
 *   citation precision(q) = |C ∩ R| / |C|   (undefined when C is empty: the answer claims no source)
 *   citation recall(q)    = |C ∩ R| / |R|   (0 when C is empty)
 * Precision is averaged over the queries whose answer cites something (the count of those that
 * cite nothing is reported beside it, so an agent cannot raise precision by citing less); recall is
 * averaged over every answered query. Micro precision (all relevant citations / all citations) is
 * reported too, because the macro mean weighs a one-citation answer as much as a six-citation one.
 */
import { percentile } from '../../bench/stats';

/** What one reply of `POST /api/query` told, reduced to what is scored. Absent reply fields stay undefined. */
export interface AnswerObservation {
  queryId: string;
  /** Corpus ids of the cited documents, in citation order (duplicates allowed; they are folded). */
  citedDocuments: string[];
  groundedness?: number;
  route?: string;
  refinements?: number;
  latencyMs: number;
}

/** A query whose request failed (HTTP error, timeout, unparseable reply). */
export interface AnswerFailure {
  queryId: string;
  error: string;
}

export interface CitationScore {
  /** undefined when the answer cites nothing. */
  precision: number | undefined;
  recall: number;
  cited: number;
  relevantCited: number;
}

export interface AnswerSummary {
  answered: number;
  failed: number;
  /** Macro precision over answers citing ≥ 1 document; undefined when none did. */
  citationPrecision: number | undefined;
  /** Relevant cited documents over all cited documents; undefined when nothing was cited. */
  citationPrecisionMicro: number | undefined;
  /** Macro recall over all answered queries; undefined when none was answered. */
  citationRecall: number | undefined;
  withoutCitations: number;
  /** Mean groundedness over replies that carry it; undefined when none does. */
  groundedness: number | undefined;
  groundednessReported: number;
  /** route → count; replies without a route are counted under `n/a`. */
  routes: Map<string, number>;
  /** refinement rounds → count, ascending; replies without the field under `n/a`. */
  refinements: Map<string, number>;
  latencyP50Ms: number | undefined;
  latencyP95Ms: number | undefined;
}

export const NOT_REPORTED = 'n/a';

/** The set of documents judged relevant (score > 0) for one query. */
export function relevantDocuments(judged: ReadonlyMap<string, number> | undefined): Set<string> {
  return new Set([...(judged ?? new Map<string, number>()).entries()].filter(([, score]) => score > 0).map(([id]) => id));
}

export function scoreCitations(citedDocuments: readonly string[], relevant: ReadonlySet<string>): CitationScore {
  const cited = new Set(citedDocuments);
  const relevantCited = [...cited].filter((id) => relevant.has(id)).length;
  return {
    precision: cited.size === 0 ? undefined : relevantCited / cited.size,
    recall: relevant.size === 0 ? 0 : relevantCited / relevant.size,
    cited: cited.size,
    relevantCited,
  };
}

function meanOf(values: readonly number[]): number | undefined {
  return values.length === 0 ? undefined : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export function summarizeAnswers(
  observations: readonly AnswerObservation[],
  failures: readonly AnswerFailure[],
  qrels: ReadonlyMap<string, ReadonlyMap<string, number>>,
): AnswerSummary {
  const precisions: number[] = [];
  const recalls: number[] = [];
  let cited = 0;
  let relevantCited = 0;
  const groundedness: number[] = [];
  const routes = new Map<string, number>();
  const rounds = new Map<number, number>();
  let roundsAbsent = 0;
  for (const observation of observations) {
    const score = scoreCitations(observation.citedDocuments, relevantDocuments(qrels.get(observation.queryId)));
    if (score.precision !== undefined) precisions.push(score.precision);
    recalls.push(score.recall);
    cited += score.cited;
    relevantCited += score.relevantCited;
    if (observation.groundedness !== undefined) groundedness.push(observation.groundedness);
    count(routes, observation.route ?? NOT_REPORTED);
    if (observation.refinements === undefined) roundsAbsent++;
    else rounds.set(observation.refinements, (rounds.get(observation.refinements) ?? 0) + 1);
  }
  const refinements = new Map<string, number>([...rounds.entries()].sort(([a], [b]) => a - b).map(([key, value]) => [String(key), value]));
  if (roundsAbsent > 0) refinements.set(NOT_REPORTED, roundsAbsent);
  const latencies = observations.map((observation) => observation.latencyMs);
  return {
    answered: observations.length,
    failed: failures.length,
    citationPrecision: meanOf(precisions),
    citationPrecisionMicro: cited === 0 ? undefined : relevantCited / cited,
    citationRecall: meanOf(recalls),
    withoutCitations: observations.length - precisions.length,
    groundedness: meanOf(groundedness),
    groundednessReported: groundedness.length,
    routes,
    refinements,
    latencyP50Ms: latencies.length === 0 ? undefined : percentile(latencies, 50),
    latencyP95Ms: latencies.length === 0 ? undefined : percentile(latencies, 95),
  };
}
