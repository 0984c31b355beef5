import { SparseBm25Encoder, termId } from './sparse-bm25';

describe('termId', () => {
  it('is 32-bit FNV-1a over UTF-8 (published test vectors), so ids never change between releases', () => {
    expect(termId('')).toBe(0x811c9dc5);
    expect(termId('a')).toBe(0xe40c292c);
    expect(termId('foobar')).toBe(0xbf9cf968);
  });

  it('hashes non-ASCII terms by their UTF-8 bytes', () => {
    expect(termId('機械')).toBe(termId('機械'));
    expect(termId('機械')).not.toBe(termId('械機'));
    expect(Number.isInteger(termId('naïve'))).toBe(true);
    expect(termId('naïve')).toBeGreaterThanOrEqual(0);
    expect(termId('naïve')).toBeLessThan(2 ** 32);
  });
});

describe('SparseBm25Encoder', () => {
  const encoder = new SparseBm25Encoder();

  it('encodes stemmed, stop-word-free terms with ascending unique indices', () => {
    const vector = encoder.encodeDocument('The runners were running and running.');
    // "the", "were", "and" are stop words; runners/running stem to two terms at most.
    expect(vector.indices.length).toBeGreaterThan(0);
    expect(vector.indices.length).toBe(vector.values.length);
    expect([...vector.indices].sort((a, b) => a - b)).toEqual(vector.indices);
    expect(new Set(vector.indices).size).toBe(vector.indices.length);
    expect(vector.indices).toContain(termId('run'));
    expect(vector.indices).not.toContain(termId('the'));
  });

  it('saturates term frequency with k1 = 1.2 at the average length', () => {
    const custom = new SparseBm25Encoder({ averageTextLength: 1, b: 0.75, filenameWeight: 0 });
    const once = custom.encodeDocument('zebra');
    // tf 1, length 1 = average: 1 · 2.2 / (1 + 1.2) = 1
    expect(once.values[0]).toBeCloseTo(1, 10);
    const noLengthNorm = new SparseBm25Encoder({ b: 0, filenameWeight: 0 });
    const thrice = noLengthNorm.encodeDocument('zebra zebra zebra');
    expect(thrice.values[0]).toBeCloseTo((3 * 2.2) / (3 + 1.2), 10);
    expect(thrice.values[0]).toBeLessThan(2.2); // never above k1 + 1
  });

  it('weighs a term less in a longer chunk (length normalisation)', () => {
    const short = encoder.encodeDocument('zebra crossing');
    const long = encoder.encodeDocument(`zebra crossing ${'lorem ipsum dolor amet '.repeat(100)}`);
    const id = termId('zebra');
    const weight = (vector: { indices: number[]; values: number[] }): number => vector.values[vector.indices.indexOf(id)];
    expect(weight(short)).toBeGreaterThan(weight(long));
  });

  it('counts filename terms as a weaker second field and ignores the extension', () => {
    const vector = encoder.encodeDocument('annual figures', 'q3-revenue.pdf');
    expect(vector.indices).toContain(termId('revenu'));
    expect(vector.indices).not.toContain(termId('pdf'));
    const inText = encoder.encodeDocument('revenue', 'x.txt');
    const inName = encoder.encodeDocument('other words here', 'revenue.txt');
    const id = termId('revenu');
    expect(inName.values[inName.indices.indexOf(id)]).toBeLessThan(inText.values[inText.indices.indexOf(id)]);
  });

  it('returns an empty vector for text without index terms', () => {
    expect(encoder.encodeDocument('the and of', '')).toEqual({ indices: [], values: [] });
    expect(encoder.encodeQuery('to be or not to be')).toEqual({ indices: [], values: [] });
  });

  it('encodes a query as its distinct terms with weight 1', () => {
    const query = encoder.encodeQuery('invoice invoices INVOICE penalty');
    expect(query.indices).toEqual([termId('invoic'), termId('penalti')].sort((a, b) => a - b));
    expect(query.values).toEqual([1, 1]);
  });

  it('sums the weights of terms whose ids collide instead of sending duplicate indices', () => {
    // "t7pfs" and "tovja" are a real FNV-1a collision (found by brute force).
    expect(termId('t7pfs')).toBe(termId('tovja'));
    const plain = new SparseBm25Encoder({ tokenize: (text) => text.split(' '), filenameWeight: 0, b: 0 });
    const vector = plain.encodeDocument('t7pfs tovja');
    expect(vector.indices).toEqual([termId('t7pfs')]);
    expect(vector.values[0]).toBeCloseTo(2 * ((1 * 2.2) / (1 + 1.2)), 10);
  });

  it('rejects impossible parameters', () => {
    expect(() => new SparseBm25Encoder({ b: 2 })).toThrow(RangeError);
    expect(() => new SparseBm25Encoder({ averageTextLength: 0 })).toThrow(RangeError);
  });
});
