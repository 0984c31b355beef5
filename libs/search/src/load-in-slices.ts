import type { IndexedChunk, SearchIndex } from './search-index.port';
import { TimeSlicer } from './time-slicer';

export interface LoadedCounts {
  documents: number;
  chunks: number;
}

/**
 * Loads pages of chunks into an index, one document at a time, giving up the event loop between
 * documents once a slice is used up — so a replica building its index keeps answering health
 * checks and searches. Pages come from a keyset scan ordered by document: a document's chunks are
 * contiguous, though a document may continue on the next page (it is upserted once complete).
 * Only the current page and the current document are held, never the whole corpus.
 */
export async function loadInSlices(
  index: SearchIndex,
  pages: AsyncIterable<readonly IndexedChunk[]> | Iterable<readonly IndexedChunk[]>,
  slicer = new TimeSlicer(),
): Promise<LoadedCounts> {
  const loaded: LoadedCounts = { documents: 0, chunks: 0 };
  let current: IndexedChunk[] = [];
  const flush = async (): Promise<void> => {
    if (current.length === 0) return;
    const [first] = current;
    await index.upsertDocumentChunks(first.tenantId, first.documentId, current);
    loaded.documents++;
    loaded.chunks += current.length;
    current = [];
    await slicer.yieldIfDue();
  };
  for await (const page of pages) {
    for (const chunk of page) {
      if (current.length > 0 && (chunk.documentId !== current[0].documentId || chunk.tenantId !== current[0].tenantId)) await flush();
      current.push(chunk);
    }
  }
  await flush();
  return loaded;
}
