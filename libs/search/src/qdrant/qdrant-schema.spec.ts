import { folderAncestors, PAYLOAD_INDEXES, pointId, qdrantCollectionName, searchFilter } from './qdrant-schema';

describe('qdrantCollectionName', () => {
  it('joins prefix, model and dimension', () => {
    expect(qdrantCollectionName('text-embedding-3-small', 1536)).toBe('quarry_text-embedding-3-small_1536');
    expect(qdrantCollectionName('local-hashing', 384, 'test_run7')).toBe('test_run7_local-hashing_384');
  });

  it('sanitises other characters and keeps look-alike models apart with a hash', () => {
    const slash = qdrantCollectionName('BAAI/bge-small-en-v1.5', 384);
    const dot = qdrantCollectionName('BAAI.bge-small-en-v1/5', 384);
    expect(slash).toMatch(/^quarry_BAAI_bge-small-en-v1_5_384_[0-9a-f]{8}$/);
    expect(dot).toMatch(/^quarry_BAAI_bge-small-en-v1_5_384_[0-9a-f]{8}$/);
    expect(slash).not.toBe(dot);
    expect(qdrantCollectionName('BAAI/bge-small-en-v1.5', 384)).toBe(slash); // stable
  });

  it('differs by dimension and rejects nonsense', () => {
    expect(qdrantCollectionName('m', 256)).not.toBe(qdrantCollectionName('m', 512));
    expect(() => qdrantCollectionName('m', 0)).toThrow(RangeError);
    expect(() => qdrantCollectionName('  ', 8)).toThrow(RangeError);
  });
});

describe('folderAncestors', () => {
  it('lists the root, every ancestor and the folder itself', () => {
    expect(folderAncestors('/a/b/c')).toEqual(['/', '/a', '/a/b', '/a/b/c']);
    expect(folderAncestors('a//b/')).toEqual(['/', '/a', '/a/b']);
    expect(folderAncestors('/')).toEqual(['/']);
    expect(folderAncestors('')).toEqual(['/']);
  });
});

describe('searchFilter', () => {
  it('always filters on the tenant', () => {
    expect(searchFilter('acme', undefined)).toEqual({ must: [{ key: 'tenant_id', match: { value: 'acme' } }] });
    expect(searchFilter('acme', {})).toEqual({ must: [{ key: 'tenant_id', match: { value: 'acme' } }] });
  });

  it('translates every filter into one must condition', () => {
    expect(searchFilter('acme', { tags: ['hr', 'ops'], folder: 'finance/', documentIds: ['d1'] })).toEqual({
      must: [
        { key: 'tenant_id', match: { value: 'acme' } },
        { key: 'tags', match: { any: ['hr', 'ops'] } },
        { key: 'document_id', match: { any: ['d1'] } },
        { key: 'folder_path', match: { value: '/finance' } },
      ],
    });
  });

  it('answers undefined (match nothing) for an empty list', () => {
    expect(searchFilter('acme', { tags: [] })).toBeUndefined();
    expect(searchFilter('acme', { documentIds: [] })).toBeUndefined();
  });
});

describe('pointId', () => {
  it('uses UUID chunk ids as they are, lower-cased', () => {
    expect(pointId('6F9619FF-8B86-D011-B42D-00C04FC964FF')).toBe('6f9619ff-8b86-d011-b42d-00c04fc964ff');
  });

  it('maps other ids to a stable version-5 UUID', () => {
    const id = pointId('inv-1');
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(pointId('inv-1')).toBe(id);
    expect(pointId('inv-2')).not.toBe(id);
  });
});

describe('PAYLOAD_INDEXES', () => {
  it('marks the tenant field as the tenant key', () => {
    expect(PAYLOAD_INDEXES.find((index) => index.field_name === 'tenant_id')?.field_schema).toEqual({ type: 'keyword', is_tenant: true });
  });
});
