import { RetrievalProbe, waitFor } from '@quarry/testing';
import type { FaultRig } from './fault-rig';
import type { ClientLog } from './client-log';
import type { AcceptedDocument } from './workload';

const TERMINAL = new Set(['indexed', 'failed', 'cancelled']);

interface DocumentRow {
  id: string;
  status: string;
  error: string | null;
  chunk_count: number;
  chunks: string;
  index_attempts: string;
}

/** What the suite found, in the terms of the targets. */
export interface Findings {
  lost: string[];
  stuck: string[];
  wronglyFailed: string[];
  /** Indexed documents whose stored chunks do not match their chunk count, or have none. */
  chunkMismatches: string[];
  /** Indexed documents without a recorded index step. */
  withoutHistory: string[];
  /** Indexed documents that a search for their own word does not find. */
  unretrievable: string[];
  /** Deleted documents a search still finds. */
  stillRetrievable: string[];
  recoverySeconds: number;
}

/**
 * Waits (up to `deadlineMs` after the last fault) until every accepted document is in a terminal
 * state, then checks every invariant: none lost, stuck or wrongly failed; chunks stored once and
 * counted right; every indexed document found by a search for its word and every deleted one not.
 */
export async function checkInvariants(
  rig: FaultRig,
  documents: { accepted: Iterable<AcceptedDocument>; deleted: Iterable<AcceptedDocument> },
  lastFaultAt: number,
  deadlineMs = 60_000,
): Promise<Findings> {
  const accepted = [...documents.accepted];
  const deleted = [...documents.deleted];
  const ids = accepted.map((document) => document.documentId);
  const load = async (): Promise<DocumentRow[]> =>
    (
      await rig.db.query<DocumentRow>(
        `SELECT d.id, d.status, d.error, d.chunk_count,
                (SELECT count(*) FROM chunks c WHERE c.document_id = d.id)::text AS chunks,
                (SELECT count(*) FROM processing_jobs p WHERE p.document_id = d.id AND p.kind = 'index' AND p.status = 'completed')::text AS index_attempts
         FROM documents d WHERE d.id = ANY($1::uuid[])`,
        [ids],
      )
    ).rows;
  let rows: DocumentRow[] = [];
  await waitFor(
    async () => {
      rows = await load();
      return rows.length === ids.length && rows.every((row) => TERMINAL.has(row.status));
    },
    { timeoutMs: Math.max(1000, lastFaultAt + deadlineMs - Date.now()), intervalMs: 250, description: 'every accepted document to reach a terminal state' },
  ).catch(() => undefined);
  const recoverySeconds = (Date.now() - lastFaultAt) / 1000;
  const byId = new Map(rows.map((row) => [row.id, row]));
  const findings: Findings = {
    lost: ids.filter((id) => !byId.has(id)),
    stuck: rows.filter((row) => !TERMINAL.has(row.status)).map((row) => `${row.id} (${row.status})`),
    // Every document the workload uploads is valid: any failure or cancellation is wrong.
    wronglyFailed: rows.filter((row) => row.status === 'failed' || row.status === 'cancelled').map((row) => `${row.id}: ${row.error}`),
    chunkMismatches: rows.filter((row) => row.status === 'indexed' && (row.chunk_count === 0 || Number(row.chunks) !== row.chunk_count)).map((row) => `${row.id}: ${row.chunks} stored, ${row.chunk_count} counted`),
    withoutHistory: rows.filter((row) => row.status === 'indexed' && Number(row.index_attempts) === 0).map((row) => row.id),
    unretrievable: [],
    stillRetrievable: [],
    recoverySeconds,
  };
  const probe = new RetrievalProbe({ redisUrl: rig.redis.url, redisPrefix: 'quarry' });
  try {
    const found = async (document: AcceptedDocument) => {
      const reply = await probe.search({ tenantId: document.tenantId, query: document.token, topK: 5, mode: 'lexical' });
      return reply.hits.some((hit) => hit.documentId === document.documentId);
    };
    const indexed = accepted.filter((document) => byId.get(document.documentId)?.status === 'indexed');
    for (const document of indexed) if (!(await found(document))) findings.unretrievable.push(document.documentId);
    for (const document of deleted) if (await found(document)) findings.stillRetrievable.push(document.documentId);
  } finally {
    await probe.close();
  }
  return findings;
}

/** Copies the findings and the client log into the scenario's tally. */
export function recordFindings(rig: FaultRig, findings: Findings, log: ClientLog, documents: { accepted: number; deleted: number }): void {
  const { tally } = rig;
  tally.accepted += documents.accepted + documents.deleted;
  tally.deleted += documents.deleted;
  tally.indexed += documents.accepted - findings.lost.length - findings.stuck.length - findings.wronglyFailed.length;
  tally.lost += findings.lost.length + findings.unretrievable.length;
  tally.stuck += findings.stuck.length;
  tally.wronglyFailed += findings.wronglyFailed.length;
  tally.recoverySeconds = Math.max(tally.recoverySeconds, findings.recoverySeconds);
  for (const key of ['served', 'refused', 'unavailable', 'bad'] as const) tally.responses[key] += log.counts[key];
  tally.slowestUnavailableMs = Math.max(tally.slowestUnavailableMs, log.slowestUnavailableMs);
}

/** Every violated invariant as readable lines (empty when all hold). */
export function violations(findings: Findings, log: ClientLog): string[] {
  const lines: string[] = [];
  const list = (label: string, items: string[]) => {
    if (items.length > 0) lines.push(`${label} (${items.length}): ${items.slice(0, 10).join('; ')}`);
  };
  list('lost', findings.lost);
  list('stuck', findings.stuck);
  list('wrongly failed', findings.wronglyFailed);
  list('chunks not stored exactly once', findings.chunkMismatches);
  list('indexed without a recorded index step', findings.withoutHistory);
  list('indexed but not found by search', findings.unretrievable);
  list('deleted but still found by search', findings.stillRetrievable);
  if (log.counts.bad > 0) lines.push(`bad client responses (${log.counts.bad}):\n${log.describeBad()}`);
  if (findings.recoverySeconds > 60) lines.push(`recovery took ${findings.recoverySeconds.toFixed(1)} s after the last fault (target 60 s)`);
  return lines;
}
