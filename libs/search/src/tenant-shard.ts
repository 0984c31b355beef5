import { Bm25Index, type Bm25Options } from './bm25-index';
import { type FilterableChunk, normaliseFolder } from './search-filters';
import type { IndexedChunk } from './search-index.port';
import type { ScoredId } from './top-k';
import { invalid } from './validate-chunks';
import { VectorIndex } from './vector-index';

/** A chunk's searchable metadata and text; its vector lives in the shard's `VectorIndex`. */
export interface StoredChunk extends FilterableChunk {
  readonly chunkId: string;
  readonly filename: string;
  readonly text: string;
  readonly ordinal: number;
  readonly provenance: Readonly<Record<string, unknown>>;
}

/**
 * Everything indexed for one tenant: chunk records, their BM25 index and their vectors, kept in
 * step. Each tenant gets its own shard, so isolation is structural (a search only ever touches its
 * tenant's shard) and ranking statistics are per tenant.
 *
 * Mutations are synchronous and validated before the first change, so in a single-threaded
 * runtime no search can interleave with — or observe the remains of — a half-done replacement.
 */
export class TenantShard {
  private readonly chunks = new Map<string, StoredChunk>();
  private readonly chunkIdsByDocument = new Map<string, readonly string[]>();
  private readonly lexical: Bm25Index;
  private vectors: VectorIndex | undefined;

  constructor(bm25Options: Bm25Options = {}) {
    this.lexical = new Bm25Index(bm25Options);
  }

  get chunkCount(): number {
    return this.chunks.size;
  }

  /** Dimension of the stored vectors, once there are any. */
  get vectorDimension(): number | undefined {
    return this.vectors?.dimension;
  }

  vectorOf(chunkId: string): Float32Array | undefined {
    return this.vectors?.vectorOf(chunkId);
  }

  chunk(chunkId: string): StoredChunk | undefined {
    return this.chunks.get(chunkId);
  }

  /** Chunks per document. */
  documentChunkCounts(): Map<string, number> {
    return new Map([...this.chunkIdsByDocument].map(([documentId, chunkIds]) => [documentId, chunkIds.length]));
  }

  /** Resolves once the shard's vector graph, if one is being built, is complete. */
  graphBuilt(): Promise<void> {
    return this.vectors?.graphBuilt() ?? Promise.resolve();
  }

  /** Replaces the document's chunks; the batch must already have passed `validateChunkBatch`. */
  replaceDocument(documentId: string, chunks: readonly IndexedChunk[]): void {
    const dimension = this.checkReplacement(documentId, chunks);
    this.removeDocument(documentId);
    if (chunks.length === 0) return;
    if (!this.vectors || this.vectors.dimension !== dimension) this.vectors = new VectorIndex(dimension);
    const vectors = this.vectors;
    for (const chunk of chunks) {
      const stored: StoredChunk = {
        chunkId: chunk.chunkId,
        documentId,
        filename: chunk.filename,
        text: chunk.text,
        ordinal: chunk.ordinal,
        provenance: { ...chunk.provenance },
        tags: [...chunk.tags],
        folder: normaliseFolder(chunk.folder),
      };
      this.chunks.set(chunk.chunkId, stored);
      this.lexical.add(chunk.chunkId, { text: chunk.text, filename: chunk.filename });
      vectors.add(chunk.chunkId, chunk.vector);
    }
    this.chunkIdsByDocument.set(
      documentId,
      chunks.map((chunk) => chunk.chunkId),
    );
  }

  removeDocument(documentId: string): void {
    const chunkIds = this.chunkIdsByDocument.get(documentId);
    if (!chunkIds) return;
    for (const chunkId of chunkIds) {
      this.chunks.delete(chunkId);
      this.lexical.remove(chunkId);
      this.vectors?.remove(chunkId);
    }
    this.chunkIdsByDocument.delete(documentId);
    if (this.chunks.size === 0) this.vectors = undefined; // the next document may use another model
  }

  searchLexical(text: string, limit: number, accept?: (chunkId: string) => boolean): ScoredId[] {
    return this.lexical.search(text, limit, accept);
  }

  searchVectors(vector: Float32Array, limit: number, accept?: (chunkId: string) => boolean): ScoredId[] {
    return this.vectors?.search(vector, limit, accept) ?? [];
  }

  /**
   * Cross-document invariants, checked before any mutation: chunk ids are unique within the
   * tenant, and all vectors share one dimension — unless this document is the tenant's only
   * content, in which case re-embedding it with another model is allowed. Returns the dimension.
   */
  private checkReplacement(documentId: string, chunks: readonly IndexedChunk[]): number {
    for (const chunk of chunks) {
      const owner = this.chunks.get(chunk.chunkId)?.documentId;
      if (owner !== undefined && owner !== documentId) {
        throw invalid(`chunk ${chunk.chunkId} already belongs to document ${owner}`);
      }
    }
    const dimension = chunks[0]?.vector.length ?? 0;
    const ownChunkCount = this.chunkIdsByDocument.get(documentId)?.length ?? 0;
    const othersRemain = this.chunks.size > ownChunkCount;
    if (chunks.length > 0 && othersRemain && this.vectors && this.vectors.dimension !== dimension) {
      throw invalid(`vectors of dimension ${dimension} cannot join this tenant's index of dimension ${this.vectors.dimension}`);
    }
    return dimension;
  }
}
