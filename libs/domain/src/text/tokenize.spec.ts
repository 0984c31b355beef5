import { termFrequencies, tokenize } from './tokenize';

describe('tokenize', () => {
  it('lowercases and stems so inflections meet ("running" ↔ "runs")', () => {
    expect(tokenize('Running')).toEqual(['run']);
    expect(tokenize('runs')).toEqual(['run']);
    expect(tokenize('The organisations ORGANISED')).toEqual(tokenize('organisation organised'));
  });

  it('removes English stop words, including contractions with either apostrophe', () => {
    expect(tokenize('the cat is on the mat')).toEqual(['cat', 'mat']);
    expect(tokenize("Don't you know it’s here")).toEqual(['know']);
    expect(tokenize('The and of to')).toEqual([]);
  });

  it('keeps term repetitions, in order, because they are term frequencies', () => {
    expect(tokenize('apple banana apple')).toEqual(['appl', 'banana', 'appl']);
  });

  it('strips possessives and leftover apostrophes', () => {
    expect(tokenize("the user's data")).toEqual(['user', 'data']);
    expect(tokenize('O’Neill')).toEqual(tokenize("o'neill"));
    expect(tokenize("o'neill")[0]).not.toContain("'");
  });

  it('emits the parts and the joined form of hyphenated compounds', () => {
    expect(tokenize('COVID-19')).toEqual(['covid', '19', 'covid19']);
    expect(tokenize('covid19')).toEqual(['covid19']);
    expect(tokenize('e-mail')).toEqual(['mail', 'email']);
    expect(tokenize('snake_case')).toEqual(['snake', 'case', 'snakecas']);
    expect(tokenize('non‑breaking')).toEqual(tokenize('non-breaking')); // U+2011
  });

  it('keeps version numbers, decimals and thousands together', () => {
    expect(tokenize('v1.2.3 costs 3.14 or 10,000')).toEqual(['v1.2.3', 'cost', '3.14', '10000']);
    expect(tokenize('1,2,3')).toEqual(['1', '2', '3']);
    expect(tokenize('End of sentence.Next')).toEqual(['end', 'sentenc', 'next']);
  });

  it('drops 1-character tokens except digits, and absurdly long tokens', () => {
    expect(tokenize('x y z 7 b 2')).toEqual(['7', '2']);
    expect(tokenize(`hash ${'f'.repeat(65)} ok ${'a'.repeat(20)}`)).toEqual(['hash', 'ok', 'a'.repeat(20)]);
  });

  it('folds Latin diacritics and compatibility forms but leaves other scripts intact', () => {
    expect(tokenize('Café NAÏVE')).toEqual(tokenize('cafe naive'));
    expect(tokenize('ﬁle')).toEqual(['file']); // ligature
    expect(tokenize('ＡＢＣ')).toEqual(['abc']); // full-width
    expect(tokenize('Привет, мир! Straße')).toEqual(['привет', 'мир', 'straße']);
    expect(tokenize('हिन्दी भाषा')).toEqual(['हिन्दी', 'भाषा']); // vowel signs are marks and must stay
  });

  it('splits scripts written without spaces into overlapping bigrams', () => {
    expect(tokenize('機械学習')).toEqual(['機械', '械学', '学習']);
    expect(tokenize('iPhone手机')).toEqual(['iphon', '手机']);
    expect(tokenize('中')).toEqual(['中']);
    expect(tokenize('𠀀𠀁')).toEqual(['𠀀𠀁']); // astral Han stays whole
  });

  it('ignores soft hyphens and punctuation', () => {
    expect(tokenize('hy\u00adphen')).toEqual(['hyphen']);
    expect(tokenize('...!!! ??? --- ')).toEqual([]);
    expect(tokenize('')).toEqual([]);
  });

  it('tokenizes a large text quickly (stems are cached)', () => {
    const paragraph = 'Retrieval augmented generation combines searching indexed documents with generating answers. ';
    const text = paragraph.repeat(5_000); // ~70k words
    const started = performance.now();
    const tokens = tokenize(text);
    const elapsedMs = performance.now() - started;
    expect(tokens.length).toBe(5_000 * 9);
    expect(elapsedMs).toBeLessThan(1_000);
  });
});

describe('termFrequencies', () => {
  it('counts each term', () => {
    expect(termFrequencies(['run', 'fast', 'run'])).toEqual(
      new Map([
        ['run', 2],
        ['fast', 1],
      ]),
    );
    expect(termFrequencies([]).size).toBe(0);
  });
});
