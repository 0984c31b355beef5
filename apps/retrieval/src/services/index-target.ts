import type { Embedder } from '@quarry/llm';
import type { ChunkForIndex, ChunkRepository, FeedPosition, PendingDocument } from '@quarry/persistence';
import { type SearchIndex, TimeSlicer } from '@quarry/search';

/** What a search runs against: an index and the embedder of the version its vectors belong to. */
export interface ServedIndex {
  index: SearchIndex;
  embedder: Embedder;
}

/** An index and how far it has followed the change feed. */
export interface IndexTarget extends ServedIndex {
  /** Every change at or below this feed position has been applied (it only ever passes settled changes). */
  position: FeedPosition;
  /** Changes after the position applied early, while not settled yet (`txId:seq`); they are not applied again once settled. */
  readonly appliedEarly: Set<string>;
}

/** A target for `index`, about to be loaded: its feed position must have been taken before the load. */
export function newTarget(served: ServedIndex, position: FeedPosition): IndexTarget {
  return { ...served, position, appliedEarly: new Set() };
}

/** Changes read per feed page. */
const FEED_PAGE = 500;
/** Documents whose chunks are read in one query while replaying or repairing (bounds the rows held). */
const DOCUMENTS_PER_READ = 50;

/**
 * Applies every committed change after the target's position, page by page, yielding to the event
 * loop between documents; the position moves past settled changes only (see
 * ChunkRepository.changesAfter), so none can ever be skipped.
 *
 * Applying a change means making the index hold what Postgres holds for the document now (its
 * current chunks, or nothing): idempotent, and correct whatever order changes are applied in. That
 * is what allows committed changes that are not settled yet to be applied early — a document
 * reported indexed is searchable at once, even while an older, unrelated write transaction is
 * still running — and why a settled change that was applied early needs no second application
 * (any later change to the document has a change of its own). Only the last change of each
 * document in a page matters. Resolves with the tenants whose documents it changed.
 */
export async function replayFeed(chunks: ChunkRepository, target: IndexTarget, slicer = new TimeSlicer()): Promise<Set<string>> {
  const changedTenants = new Set<string>();
  for (;;) {
    const page = await chunks.changesAfter(target.position, FEED_PAGE);
    const due = page.settled.filter((change) => !target.appliedEarly.delete(changeKey(change)));
    const early = page.unsettled.filter((change) => !target.appliedEarly.has(changeKey(change)));
    if (due.length + early.length > 0) {
      const latest = new Map([...due, ...early].map((change) => [documentKey(change), change]));
      await reloadDocuments(chunks, target, [...latest.values()], slicer);
      for (const change of early) target.appliedEarly.add(changeKey(change));
      for (const change of latest.values()) changedTenants.add(change.tenantId);
    }
    const last = page.settled.at(-1);
    if (last) target.position = { txId: last.txId, seq: last.seq };
    if (!page.more) return changedTenants;
  }
}

/**
 * Makes the index hold exactly what Postgres holds now for each document: its current indexed
 * chunks of the target's embedding model, or nothing (a deleted document, or one whose chunks
 * belong to the index another version's switch builds).
 */
export async function reloadDocuments(chunks: ChunkRepository, target: IndexTarget, documents: readonly PendingDocument[], slicer: TimeSlicer): Promise<void> {
  for (let start = 0; start < documents.length; start += DOCUMENTS_PER_READ) {
    const group = documents.slice(start, start + DOCUMENTS_PER_READ);
    const current = groupByDocument(await chunks.indexedChunksOf(group, target.embedder.model));
    for (const document of group) {
      const found = current.get(documentKey(document));
      if (found) await target.index.upsertDocumentChunks(document.tenantId, document.documentId, found);
      else await target.index.removeDocument(document.tenantId, document.documentId);
      await slicer.yieldIfDue();
    }
  }
}

const documentKey = (document: { tenantId: string; documentId: string }): string => `${document.tenantId}\u0000${document.documentId}`;
const changeKey = (change: FeedPosition): string => `${change.txId}:${change.seq}`;

function groupByDocument(rows: ChunkForIndex[]): Map<string, ChunkForIndex[]> {
  const byDocument = new Map<string, ChunkForIndex[]>();
  for (const row of rows) {
    const key = documentKey(row);
    const list = byDocument.get(key);
    if (list) list.push(row);
    else byDocument.set(key, [row]);
  }
  return byDocument;
}
