import { DocumentChunker, type TextChunk } from './document-chunker';
import { TokenCounter } from './token-counter';

const WORDS = [
  'invoice', 'ledger', 'quarterly', 'vacation', 'policy', 'employee', 'server', 'backup', 'retention', 'audit',
  'contract', 'renewal', 'budget', 'forecast', 'travel', 'expense', 'approval', 'manager', 'deadline', 'review',
  'security', 'password', 'rotation', 'incident', 'report', 'customer', 'support', 'ticket', 'escalation', 'holiday',
];

/** Varied, deterministic prose: sentences of different lengths from a small vocabulary. */
function prose(sentences: number, seed = 1): string {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state;
  };
  return Array.from({ length: sentences }, () => {
    const length = 5 + (next() % 9);
    const words = Array.from({ length }, () => WORDS[next() % WORDS.length]);
    words[0] = words[0][0].toUpperCase() + words[0].slice(1);
    return `${words.join(' ')}.`;
  }).join(' ');
}

/** Every character that is not whitespace lies inside at least one chunk's range. */
function uncoveredText(source: string, chunks: TextChunk[]): string {
  const covered = new Uint8Array(source.length);
  for (const chunk of chunks) covered.fill(1, chunk.provenance.charStart, chunk.provenance.charEnd);
  let missing = '';
  for (let i = 0; i < source.length; i++) if (!covered[i] && source[i].trim() !== '') missing += source[i];
  return missing;
}

/** Each range holds exactly its chunk's text, ranges move forward, and together they cover the source. */
function expectValidProvenance(source: string, chunks: TextChunk[], options: { covers: boolean } = { covers: true }): void {
  let previous = { charStart: -1, charEnd: -1 };
  for (const chunk of chunks) {
    const { charStart, charEnd } = chunk.provenance;
    expect(source.slice(charStart, charEnd)).toBe(chunk.text);
    expect(charStart).toBeGreaterThanOrEqual(previous.charStart);
    expect(charEnd).toBeGreaterThanOrEqual(previous.charEnd);
    previous = chunk.provenance;
  }
  if (options.covers) expect(uncoveredText(source, chunks)).toBe('');
}

/** A half of a surrogate pair on its own: an emoji cut in two. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const MARKDOWN = [
  'Preface text that comes before any heading at all.',
  '',
  '# Employee Handbook',
  '',
  `Welcome to the company. ${prose(3, 11)}`,
  '',
  '## Vacation',
  '',
  `Employees receive 27 days of paid vacation per year. ${prose(14, 12)}`,
  '',
  '### Carry-over',
  '',
  `Up to five unused days carry over into the next year. ${prose(4, 13)}`,
  '',
  '## Expenses',
  '',
  `Submit receipts within thirty days of travel. ${prose(4, 14)}`,
  '',
  '# Security',
  '',
  `Rotate your password every ninety days. ${prose(3, 15)}`,
  '',
].join('\n');

describe('DocumentChunker', () => {
  let tokens: TokenCounter;

  beforeAll(() => {
    tokens = new TokenCounter();
  });

  afterAll(() => {
    tokens.dispose();
  });

  const chunker = (chunkSizeTokens: number, chunkOverlapTokens: number) => new DocumentChunker(tokens, { chunkSizeTokens, chunkOverlapTokens });

  it('refuses an overlap that is not smaller than the chunk size', () => {
    expect(() => chunker(50, 50)).toThrow('CHUNK_OVERLAP_TOKENS must be smaller than CHUNK_SIZE_TOKENS');
    expect(() => chunker(50, 80)).toThrow('CHUNK_OVERLAP_TOKENS must be smaller than CHUNK_SIZE_TOKENS');
  });

  describe.each([
    ['plain prose', 'plain', prose(120, 3), true],
    ['a Markdown handbook', 'markdown', MARKDOWN, true],
    ['repeated code lines', 'markdown', `# Code\n\n\`\`\`ts\n${'const value = compute(input, options); // explain\n'.repeat(40)}\`\`\`\n`, true],
    // Runs without any separator are cut between characters; identical characters leave no clue to
    // the exact offset of a cut, so these ranges hold their text but need not cover everything.
    ['long runs of emoji, CJK and one letter', 'plain', `${'x'.repeat(900)} and then ${'😀👩‍👩‍👧'.repeat(60)} then 東京都の天気は晴れです。${'データ'.repeat(80)}`, false],
  ] as const)('on %s', (_, format, source, covers) => {
    const sizes = [
      [32, 0],
      [48, 12],
      [120, 30],
    ] as const;

    it.each(sizes)('keeps every chunk within %i tokens (overlap %i)', async (size, overlap) => {
      const chunks = await chunker(size, overlap).split(source, format);
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) {
        expect(tokens.count(chunk.text)).toBeLessThanOrEqual(size);
        expect(chunk.tokenCount).toBe(tokens.count(chunk.text));
        expect(chunk.text).not.toMatch(LONE_SURROGATE);
      }
    });

    it.each(sizes)('numbers the chunks in order and points each range at its text (size %i, overlap %i)', async (size, overlap) => {
      const chunks = await chunker(size, overlap).split(source, format);
      expect(chunks.map((chunk) => chunk.ordinal)).toEqual(chunks.map((_, index) => index));
      expectValidProvenance(source, chunks, { covers });
    });
  });

  it('overlaps consecutive chunks by at most the configured number of tokens', async () => {
    const source = Array.from({ length: 60 }, (_, i) => `Line ${i}: ${WORDS[i % WORDS.length]} ${WORDS[(i * 7) % WORDS.length]}`).join('\n');
    const chunks = await chunker(40, 15).split(source, 'plain');
    expect(chunks.length).toBeGreaterThan(3);
    for (let k = 1; k < chunks.length; k++) {
      const previous = chunks[k - 1].provenance;
      const current = chunks[k].provenance;
      // The next chunk starts inside the previous one: the shared text is repeated in both.
      expect(current.charStart).toBeLessThan(previous.charEnd);
      expect(current.charEnd).toBeGreaterThan(previous.charEnd);
      const shared = source.slice(current.charStart, previous.charEnd);
      expect(chunks[k - 1].text.endsWith(shared)).toBe(true);
      expect(chunks[k].text.startsWith(shared)).toBe(true);
      expect(tokens.count(shared)).toBeGreaterThan(0);
      expect(tokens.count(shared)).toBeLessThanOrEqual(15);
    }
  });

  it('does not overlap chunks when the overlap is zero', async () => {
    const source = Array.from({ length: 60 }, (_, i) => `Line ${i}: ${WORDS[i % WORDS.length]}`).join('\n');
    const chunks = await chunker(40, 0).split(source, 'plain');
    expect(chunks.length).toBeGreaterThan(3);
    for (let k = 1; k < chunks.length; k++) {
      expect(chunks[k].provenance.charStart).toBeGreaterThanOrEqual(chunks[k - 1].provenance.charEnd);
    }
    expectValidProvenance(source, chunks);
  });

  it('never returns empty or whitespace-only chunks, and nothing for blank text', async () => {
    const source = `\n\n   \n\t\n${prose(6, 5)}\n\n\n\n      \n\n \u00a0 \n\n${prose(6, 6)}\n\n\t\t\n\n   `;
    for (const format of ['plain', 'markdown'] as const) {
      const chunks = await chunker(24, 6).split(source, format);
      expect(chunks.length).toBeGreaterThan(1);
      for (const chunk of chunks) {
        expect(chunk.text.trim()).not.toBe('');
        expect(chunk.text).toBe(chunk.text.trim());
      }
      await expect(chunker(24, 6).split(' \n\n\t  \n ', format)).resolves.toEqual([]);
    }
  });

  it('keeps short text in one chunk with the whole range', async () => {
    const chunks = await chunker(100, 10).split('  Just one short sentence.  \n', 'plain');
    expect(chunks).toEqual([
      { ordinal: 0, text: 'Just one short sentence.', tokenCount: tokens.count('Just one short sentence.'), provenance: { charStart: 2, charEnd: 26 } },
    ]);
  });

  it('locates chunks of repetitive text where they are, covering the whole source', async () => {
    // Every chunk of these texts reads the same, so the first textual match is usually the wrong one.
    const words = Array.from({ length: 200 }, () => 'alpha').join(' ');
    const wordChunks = await chunker(20, 8).split(words, 'plain');
    expect(wordChunks.length).toBeGreaterThan(5);
    expectValidProvenance(words, wordChunks);
    expect(wordChunks[wordChunks.length - 1].provenance.charEnd).toBe(words.length);

    const log = 'ERROR connection refused by upstream\n'.repeat(120);
    const logChunks = await chunker(60, 15).split(log, 'plain');
    expect(logChunks.length).toBeGreaterThan(5);
    expectValidProvenance(log, logChunks);
    expect(logChunks[logChunks.length - 1].provenance.charEnd).toBe(log.trimEnd().length);
  });

  it('gives each Markdown chunk the heading path it sits under', async () => {
    // Paragraphs of 40 tokens in chunks of 60: no two paragraphs share a chunk.
    const paragraph = (lead: string, seed: number) => {
      let text = lead;
      for (let sentences = 1; tokens.count(`${lead} ${prose(sentences, seed)}`) <= 40; sentences++) text = `${lead} ${prose(sentences, seed)}`;
      return text;
    };
    const source = [
      paragraph('Preface text that comes before any heading at all.', 1),
      '# Employee Handbook',
      paragraph('Welcome to the company.', 2),
      '## Vacation',
      paragraph('Employees receive 27 days of paid vacation per year.', 3),
      paragraph('Vacation requests go to your manager.', 4),
      paragraph('Public holidays do not count as vacation.', 5),
      '### Carry-over',
      paragraph('Up to five unused days carry over into the next year.', 6),
      '## Expenses',
      paragraph('Submit receipts within thirty days of travel.', 7),
      '# Security',
      paragraph('Rotate your password every ninety days.', 8),
    ].join('\n\n');
    const chunks = await chunker(60, 0).split(source, 'markdown');
    const pathOf = (lead: string) => {
      const chunk = chunks.find((candidate) => candidate.text.includes(lead));
      if (!chunk) throw new Error(`no chunk holds "${lead}"`);
      return chunk.provenance.headingPath;
    };

    expect(pathOf('Preface text')).toBeUndefined();
    expect(pathOf('Welcome to the company')).toEqual(['Employee Handbook']);
    expect(pathOf('Employees receive 27 days')).toEqual(['Employee Handbook', 'Vacation']);
    // Later chunks of a long section keep its path.
    expect(pathOf('Vacation requests go')).toEqual(['Employee Handbook', 'Vacation']);
    expect(pathOf('Public holidays')).toEqual(['Employee Handbook', 'Vacation']);
    expect(pathOf('Up to five unused days')).toEqual(['Employee Handbook', 'Vacation', 'Carry-over']);
    // A sibling heading replaces the deeper path; a new top-level heading starts over.
    expect(pathOf('Submit receipts')).toEqual(['Employee Handbook', 'Expenses']);
    expect(pathOf('Rotate your password')).toEqual(['Security']);
    expectValidProvenance(source, chunks);
  });

  it('does not take commented lines of a code block for headings', async () => {
    const source = '# Setup\n\n```bash\n# install the dependencies\nnpm ci\n```\n\nThen start the service.';
    const chunks = await chunker(10, 0).split(source, 'markdown');
    const after = chunks.find((chunk) => chunk.text.includes('Then start'));
    expect(after?.provenance.charStart).toBeGreaterThan(source.indexOf('# install'));
    expect(after?.provenance.headingPath).toEqual(['Setup']);
  });

  it('treats plain text as plain: no heading paths, even for lines starting with "#"', async () => {
    const source = `# Not a heading here\n\n${prose(20, 8)}\n\n## Still not\n\n${prose(20, 9)}`;
    const chunks = await chunker(40, 5).split(source, 'plain');
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(chunk.provenance).not.toHaveProperty('headingPath');
    expectValidProvenance(source, chunks);
  });
});
