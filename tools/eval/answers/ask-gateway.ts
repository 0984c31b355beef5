import { AnswerQuestionReply } from '@quarry/contracts';
import type { AnswerFailure, AnswerObservation } from './answer-metrics';

/** One way of asking: the extra request fields that make it (e.g. `{ maxRefinements: 0 }`). */
export interface AnswerVariant {
  name: string;
  body: Record<string, unknown>;
}

export type AskOutcome =
  | { ok: true; observation: AnswerObservation }
  /** `rejected`: the gateway refused the request's shape (400), so every other query of the variant would be refused too. */
  | { ok: false; failure: AnswerFailure; rejected: boolean };

export interface GatewayTarget {
  url: string;
  apiKey: string;
  /** Quarry document id → corpus id, from the ingestion. */
  corpusIdOf: ReadonlyMap<string, string>;
  timeoutMs: number;
}

/** The corpus id a citation stands for: the ingestion's map, else the uploaded filename (`<corpus id>.md`). */
function corpusIdOfCitation(target: GatewayTarget, citation: { documentId: string; filename: string }): string {
  return target.corpusIdOf.get(citation.documentId) ?? citation.filename.replace(/\.md$/, '');
}

/** Asks one question through `POST /api/query` and reduces the reply to what the evaluation scores. */
export async function askGateway(target: GatewayTarget, query: { id: string; text: string }, variant: AnswerVariant): Promise<AskOutcome> {
  const started = performance.now();
  const fail = (error: string, rejected = false): AskOutcome => ({ ok: false, failure: { queryId: query.id, error }, rejected });
  let response: Response;
  try {
    response = await fetch(`${target.url}/api/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${target.apiKey}` },
      body: JSON.stringify({ question: query.text, ...variant.body }),
      signal: AbortSignal.timeout(target.timeoutMs),
    });
  } catch (error) {
    return fail(`request failed: ${(error as Error).message}`);
  }
  const text = await response.text();
  const latencyMs = performance.now() - started;
  if (response.status !== 200) return fail(`HTTP ${response.status}: ${text.slice(0, 300)}`, response.status === 400);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return fail(`reply is not JSON: ${text.slice(0, 200)}`);
  }
  const parsed = AnswerQuestionReply.safeParse(json);
  if (!parsed.success) return fail(`reply does not match AnswerQuestionReply: ${parsed.error.message.slice(0, 300)}`);
  const reply = parsed.data;
  return {
    ok: true,
    observation: {
      queryId: query.id,
      citedDocuments: reply.citations.map((citation) => corpusIdOfCitation(target, citation)),
      groundedness: reply.evaluation?.groundedness,
      route: reply.route,
      refinements: reply.refinements,
      latencyMs,
    },
  };
}
