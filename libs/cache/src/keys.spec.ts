import { cacheKeys, normaliseQuestion, stableStringify } from './keys';

describe('cache keys', () => {
  const answer = (overrides: Partial<Parameters<typeof cacheKeys.answer>[0]> = {}) =>
    cacheKeys.answer({ tenantId: 'acme', corpusVersion: 7, question: 'What is the refund policy?', generator: 'extractive-v1', ...overrides });

  it('normalises questions: NFKC, case folding, whitespace, trailing punctuation', () => {
    expect(normaliseQuestion('  What   is\tthe ＲＥＦＵＮＤ policy?!  ')).toBe('what is the refund policy');
    expect(normaliseQuestion('Straße')).toBe(normaliseQuestion('STRASSE'));
    expect(normaliseQuestion('ΟΔΟΣ')).toBe(normaliseQuestion('οδος'));
    expect(normaliseQuestion('ﬁle\u200B size…')).toBe('file size');
    // Only trailing punctuation goes: inner punctuation is meaning.
    expect(normaliseQuestion('is 3.5 > 3?')).toBe('is 3.5 > 3');
  });

  it('gives one answer key to questions that differ only by normalisation', () => {
    expect(answer({ question: 'what is THE refund   policy' })).toBe(answer());
    expect(answer({ question: 'What is the refund policy for shoes?' })).not.toBe(answer());
  });

  it('holds the namespace, the tenant and the corpus version, and the hash of the rest', () => {
    expect(answer()).toMatch(/^answer:acme:v7:[A-Za-z0-9_-]{22}$/);
    expect(answer({ corpusVersion: 8 })).toBe(answer().replace(':v7:', ':v8:'));
    expect(answer({ tenantId: 'globex' })).not.toBe(answer());
    expect(answer({ generator: 'gpt-4o-mini' })).not.toBe(answer());
    expect(answer({ topK: 5 })).not.toBe(answer());
    const retrieval = cacheKeys.retrieval({ tenantId: 'acme', corpusVersion: '12', query: 'refunds', mode: 'hybrid', embedding: 'bge-small@384' });
    expect(retrieval).toMatch(/^retrieval:acme:v12:[A-Za-z0-9_-]{22}$/);
    expect(cacheKeys.retrieval({ tenantId: 'acme', corpusVersion: '12', query: 'refunds', mode: 'bm25', embedding: 'bge-small@384' })).not.toBe(retrieval);
    expect(cacheKeys.chunk({ tenantId: 'acme', chunkId: 'c-1' })).toMatch(/^chunk:acme:[A-Za-z0-9_-]{22}$/);
  });

  it('treats filters as data: key order does not matter, values do, and empty filters are no filters', () => {
    expect(answer({ filters: { tags: ['a'], documentIds: ['d1'] } })).toBe(answer({ filters: { documentIds: ['d1'], tags: ['a'] } }));
    expect(answer({ filters: { tags: ['a'] } })).not.toBe(answer({ filters: { tags: ['b'] } }));
    expect(answer({ filters: {} })).toBe(answer());
    expect(answer({ filters: { tags: undefined } })).toBe(answer());
    expect(stableStringify({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });

  it('never carries user text, and hashes identifiers that are not plain', () => {
    const secret = 'my salary is 123456 and my password is hunter2';
    const keys = [
      cacheKeys.answer({ tenantId: 'acme', corpusVersion: 1, question: secret, generator: 'g', filters: { tag: secret } }),
      cacheKeys.retrieval({ tenantId: 'acme', corpusVersion: 1, query: secret, mode: 'hybrid', embedding: 'e' }),
      cacheKeys.queryEmbedding({ model: 'bge', dimensions: 384, text: secret }),
      cacheKeys.documentEmbedding({ model: 'bge', dimensions: 384, text: secret }),
      cacheKeys.llm({ model: 'gpt', messages: [{ role: 'user', content: secret }], params: { temperature: 0 } }),
      cacheKeys.answer({ tenantId: 'tenant with spaces: hunter2', corpusVersion: 'x y', question: 'q', generator: 'g' }),
    ];
    for (const key of keys) {
      expect(key.length).toBeLessThanOrEqual(80);
      for (const word of ['salary', '123456', 'hunter2', 'password', 'spaces']) expect(key).not.toContain(word);
      expect(key).toMatch(/^[a-z-]+:[A-Za-z0-9_:.~-]+$/);
    }
  });

  it('content-addresses embeddings and LLM calls (not tenant-bound), query text normalised, document text exact', () => {
    const query = (text: string) => cacheKeys.queryEmbedding({ model: 'bge', dimensions: 384, text });
    const document = (text: string) => cacheKeys.documentEmbedding({ model: 'bge', dimensions: 384, text });
    expect(query('refund  policy ')).toBe(query('refund policy'));
    expect(query('Refund policy')).not.toBe(query('refund policy'));
    expect(document('refund  policy')).not.toBe(document('refund policy'));
    expect(query('x')).toMatch(/^query-embedding:/);
    expect(cacheKeys.queryEmbedding({ model: 'bge', dimensions: 768, text: 'x' })).not.toBe(query('x'));
    const llm = (params: unknown) => cacheKeys.llm({ model: 'gpt', messages: [{ role: 'user', content: 'hi' }], params });
    expect(llm({ temperature: 0, max_tokens: 10 })).toBe(llm({ max_tokens: 10, temperature: 0 }));
    expect(llm({ temperature: 0.7 })).not.toBe(llm({ temperature: 0 }));
  });
});
