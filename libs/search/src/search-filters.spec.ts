import { buildChunkPredicate, type FilterableChunk, isInFolder, normaliseFolder } from './search-filters';

const chunk = (over: Partial<FilterableChunk> = {}): FilterableChunk => ({
  documentId: 'doc-1',
  tags: ['finance', 'q3'],
  folder: '/reports/2024',
  ...over,
});

describe('normaliseFolder', () => {
  it('gives one spelling per folder', () => {
    expect(normaliseFolder('/a/b/')).toBe('/a/b');
    expect(normaliseFolder('a//b')).toBe('/a/b');
    expect(normaliseFolder('')).toBe('/');
    expect(normaliseFolder('/')).toBe('/');
  });
});

describe('isInFolder', () => {
  it('matches the folder itself and what lies beneath it, not name prefixes', () => {
    expect(isInFolder('/a', '/a')).toBe(true);
    expect(isInFolder('/a/b', '/a')).toBe(true);
    expect(isInFolder('/ab', '/a')).toBe(false);
    expect(isInFolder('/a', '/a/b')).toBe(false);
    expect(isInFolder('/anything', '/')).toBe(true);
  });
});

describe('buildChunkPredicate', () => {
  it('returns no predicate when nothing is filtered', () => {
    expect(buildChunkPredicate(undefined)).toBeUndefined();
    expect(buildChunkPredicate({})).toBeUndefined();
  });

  it('filters by any of the tags', () => {
    const predicate = buildChunkPredicate({ tags: ['legal', 'q3'] });
    expect(predicate?.(chunk())).toBe(true);
    expect(predicate?.(chunk({ tags: ['legal'] }))).toBe(true);
    expect(predicate?.(chunk({ tags: ['hr'] }))).toBe(false);
    expect(predicate?.(chunk({ tags: [] }))).toBe(false);
  });

  it('filters by folder, normalising the filter', () => {
    const predicate = buildChunkPredicate({ folder: 'reports/' });
    expect(predicate?.(chunk())).toBe(true);
    expect(predicate?.(chunk({ folder: '/reports' }))).toBe(true);
    expect(predicate?.(chunk({ folder: '/reportsarchive' }))).toBe(false);
  });

  it('filters by document id', () => {
    const predicate = buildChunkPredicate({ documentIds: ['doc-2', 'doc-1'] });
    expect(predicate?.(chunk())).toBe(true);
    expect(predicate?.(chunk({ documentId: 'doc-3' }))).toBe(false);
  });

  it('treats an empty list as matching nothing', () => {
    expect(buildChunkPredicate({ documentIds: [] })?.(chunk())).toBe(false);
    expect(buildChunkPredicate({ tags: [] })?.(chunk())).toBe(false);
  });

  it('requires every present filter to hold', () => {
    const predicate = buildChunkPredicate({ tags: ['finance'], folder: '/reports', documentIds: ['doc-1'] });
    expect(predicate?.(chunk())).toBe(true);
    expect(predicate?.(chunk({ folder: '/other' }))).toBe(false);
    expect(predicate?.(chunk({ tags: ['hr'] }))).toBe(false);
    expect(predicate?.(chunk({ documentId: 'doc-9' }))).toBe(false);
  });
});
