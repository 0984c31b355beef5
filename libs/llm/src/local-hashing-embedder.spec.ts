import { LocalHashingEmbedder } from './local-hashing-embedder';
import { dotProduct } from './vector-math';

function norm(vector: Float32Array): number {
  return Math.sqrt(dotProduct(vector, vector));
}

describe('LocalHashingEmbedder', () => {
  const embedder = new LocalHashingEmbedder();

  it('names its vector space after version and size, 384 dimensions by default', () => {
    expect(embedder.dimensions).toBe(384);
    expect(embedder.model).toBe('local-hash-v1-384');
    expect(new LocalHashingEmbedder({ dimensions: 64 }).model).toBe('local-hash-v1-64');
  });

  it('returns one unit-length vector of the configured size per text, in order', async () => {
    const vectors = await new LocalHashingEmbedder({ dimensions: 128 }).embed(['first text about cats', 'second text about invoices']);
    expect(vectors).toHaveLength(2);
    for (const vector of vectors) {
      expect(vector).toBeInstanceOf(Float32Array);
      expect(vector).toHaveLength(128);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    expect(vectors[0]).not.toEqual(vectors[1]);
  });

  it('gives the same text the same vector, also from a fresh instance', async () => {
    const text = 'Invoices are payable within thirty days of receipt.';
    const [first] = await embedder.embed([text]);
    const [second] = await new LocalHashingEmbedder().embed([text]);
    expect(Array.from(second)).toEqual(Array.from(first));
  });

  it('is pinned: stored vectors stay valid across processes and releases', () => {
    // If this fails, the feature extraction changed: bump the model version (local-hash-v2) so that
    // vectors of the old and new kind are never mixed in one index.
    const vector = new LocalHashingEmbedder({ dimensions: 16 }).embedOne('Refunds are issued within 14 days.');
    expect(Array.from(vector, (value) => Number(value.toFixed(4)))).toEqual(PINNED_VECTOR);
  });

  it('ranks a paraphrase closer than an unrelated text', async () => {
    const [query, paraphrase, unrelated] = await embedder.embed([
      'How do I reset my password?',
      'To reset your password, open settings and choose "Reset password".',
      'Quarterly revenue grew by twelve percent in the northern region.',
    ]);
    const similar = dotProduct(query, paraphrase);
    const different = dotProduct(query, unrelated);
    expect(similar).toBeGreaterThan(0.3);
    expect(similar).toBeGreaterThan(different + 0.2);
  });

  it('matches inflected forms through stemming and close spellings through character trigrams', async () => {
    const [running, runs, colour, color, typo, password, tax] = await embedder.embed([
      'running servers', 'server runs', 'colour', 'color', 'pasword', 'password', 'taxation',
    ]);
    expect(dotProduct(running, runs)).toBeGreaterThan(0.9);
    expect(dotProduct(colour, color)).toBeGreaterThan(0.1);
    expect(dotProduct(typo, password)).toBeGreaterThan(0.1);
    expect(Math.abs(dotProduct(colour, tax))).toBeLessThan(0.05);
    expect(Math.abs(dotProduct(typo, tax))).toBeLessThan(0.05);
  });

  it('rewards shared word order through bigrams', async () => {
    const [query, samePhrase, scrambled] = await embedder.embed(['machine learning model', 'a machine learning model', 'model learning machine']);
    expect(dotProduct(query, samePhrase)).toBeGreaterThan(dotProduct(query, scrambled));
  });

  it('gives a text with nothing to index the zero vector, which matches nothing', async () => {
    const [empty, stopWordsOnly] = await embedder.embed(['', 'the and of']);
    expect(norm(empty)).toBe(0);
    expect(norm(stopWordsOnly)).toBe(0);
  });

  it('rejects a nonsensical size', () => {
    expect(() => new LocalHashingEmbedder({ dimensions: 0 })).toThrow(/positive integer/);
    expect(() => new LocalHashingEmbedder({ dimensions: 1.5 })).toThrow(/positive integer/);
  });

  it('is fast enough to run over every chunk at ingest', async () => {
    const chunk = 'Quarry splits each uploaded document into chunks of a few hundred words, '.repeat(20);
    const started = performance.now();
    await embedder.embed(Array.from({ length: 200 }, (_, i) => `${chunk} ${i}`));
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

// Also depends on `tokenize` from @quarry/domain: changing the tokenizer changes the vector space too.
const PINNED_VECTOR = [0.0887, -0.1775, 0.0887, -0.4437, 0.3549, -0.1775, 0, -0.3549, 0.3549, 0.0887, 0.3549, 0.4437, 0, 0.0887, 0, 0.0887];
