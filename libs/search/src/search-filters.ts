import type { SearchFilters } from './search-index.port';

/** What filters look at: document-level attributes copied onto each chunk. */
export interface FilterableChunk {
  readonly documentId: string;
  readonly tags: readonly string[];
  /** Already normalised with `normaliseFolder`. */
  readonly folder: string;
}

export type ChunkPredicate = (chunk: FilterableChunk) => boolean;

/**
 * One predicate for all present filters (they must all hold), or `undefined` when nothing is
 * filtered so the indexes can skip the per-chunk call entirely. Empty lists match nothing: see
 * `SearchFilters`.
 */
export function buildChunkPredicate(filters: SearchFilters | undefined): ChunkPredicate | undefined {
  if (!filters) return undefined;
  const checks: ChunkPredicate[] = [];
  if (filters.documentIds !== undefined) {
    const documentIds = new Set(filters.documentIds);
    checks.push((chunk) => documentIds.has(chunk.documentId));
  }
  if (filters.tags !== undefined) {
    const tags = new Set(filters.tags);
    checks.push((chunk) => chunk.tags.some((tag) => tags.has(tag)));
  }
  if (filters.folder !== undefined) {
    const folder = normaliseFolder(filters.folder);
    checks.push((chunk) => isInFolder(chunk.folder, folder));
  }
  if (checks.length === 0) return undefined;
  if (checks.length === 1) return checks[0];
  return (chunk) => checks.every((check) => check(chunk));
}

/**
 * Canonical folder form: leading "/", no trailing or doubled "/" ("a//b/" → "/a/b", "" → "/"), so
 * "/a", "a" and "/a/" all name the same folder.
 */
export function normaliseFolder(path: string): string {
  return '/' + path.split('/').filter((segment) => segment.length > 0).join('/');
}

/** Whether `folder` is `ancestor` or lies beneath it; both normalised. "/a" contains "/a/b", not "/ab". */
export function isInFolder(folder: string, ancestor: string): boolean {
  if (ancestor === '/') return true;
  return folder === ancestor || folder.startsWith(ancestor + '/');
}
