import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { IndexedChunk } from './search-index.port';

/**
 * Checks that a document's chunk batch is self-consistent before anything is mutated, so a bad
 * batch is rejected whole instead of leaving a half-replaced document behind.
 */
export function validateChunkBatch(tenantId: string, documentId: string, chunks: readonly IndexedChunk[]): void {
  requireId('tenantId', tenantId);
  requireId('documentId', documentId);
  const seen = new Set<string>();
  const dimension = chunks[0]?.vector.length;
  for (const chunk of chunks) {
    requireId('chunkId', chunk.chunkId);
    if (chunk.tenantId !== tenantId || chunk.documentId !== documentId) {
      throw invalid(`chunk ${chunk.chunkId} belongs to ${chunk.tenantId}/${chunk.documentId}, not ${tenantId}/${documentId}`);
    }
    if (seen.has(chunk.chunkId)) throw invalid(`chunk ${chunk.chunkId} appears twice in document ${documentId}`);
    seen.add(chunk.chunkId);
    if (chunk.vector.length === 0 || chunk.vector.length !== dimension) {
      throw invalid(`chunk ${chunk.chunkId} has a vector of dimension ${chunk.vector.length}, expected ${dimension}`);
    }
    if (!chunk.vector.every(Number.isFinite)) throw invalid(`chunk ${chunk.chunkId} has a non-finite vector component`);
  }
}

export function invalid(message: string): DomainError {
  return new DomainError(ErrorCode.InvalidPayload, message);
}

function requireId(name: string, value: string): void {
  if (value.length === 0) throw invalid(`${name} must not be empty`);
}
