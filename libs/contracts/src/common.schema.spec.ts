import { z } from 'zod';
import { SearchFilters, safeShortText, safeText, textProblem } from './common.schema';
import { describeIssues } from './describe-issues';
import { JobName, jobContracts } from './jobs';

const LONE_HIGH = '\uD83D';
const LONE_LOW = '\uDE00';
const EMOJI = '\uD83D\uDE00';

describe('textProblem', () => {
  it('accepts ordinary text, any script, emoji, tabs and line breaks', () => {
    for (const value of ['How many vacation days?', 'Größe · 大小 · размер', `smile ${EMOJI}`, 'line one\nline two\r\n\tindented', '']) {
      expect(textProblem(value)).toBeUndefined();
      expect(textProblem(value, 'short')).toBeUndefined();
    }
  });

  it('refuses NUL anywhere', () => {
    expect(textProblem('a\u0000b')).toBe('must not contain NUL characters (U+0000)');
    expect(textProblem('\u0000', 'short')).toBe('must not contain NUL characters (U+0000)');
  });

  it('refuses lone surrogates, high or low, at any position', () => {
    for (const value of [LONE_HIGH, LONE_LOW, `a${LONE_HIGH}b`, `${LONE_LOW}${LONE_HIGH}`, `${EMOJI}${LONE_LOW}`, `${LONE_HIGH}${LONE_HIGH}${LONE_LOW}`]) {
      expect(textProblem(value)).toBe('must be valid Unicode text (it holds a lone UTF-16 surrogate)');
    }
  });

  it('refuses other C0 control characters only in short text', () => {
    for (const code of [0x01, 0x07, 0x08, 0x0b, 0x0c, 0x0e, 0x1b, 0x1f]) {
      const value = `tag${String.fromCharCode(code)}`;
      expect(textProblem(value)).toBeUndefined();
      expect(textProblem(value, 'short')).toBe(`must not contain control characters (found U+${code.toString(16).toUpperCase().padStart(4, '0')})`);
    }
  });
});

describe('safeText and safeShortText', () => {
  it('keep the schema\'s own rules and transforms, and add the text rule', () => {
    const Question = safeText(z.string().trim().min(1, 'empty').max(10));
    expect(Question.parse('  why?  ')).toBe('why?');
    expect(Question.safeParse('   ').error?.issues.map((issue) => issue.message)).toEqual(['empty']);
    expect(Question.safeParse('a\u0000').error?.issues.map((issue) => issue.message)).toEqual(['must not contain NUL characters (U+0000)']);
    expect(safeShortText(z.string()).safeParse('a\u0007').success).toBe(false);
    expect(safeText(z.string()).safeParse('a\u0007').success).toBe(true);
  });

  it('name the field in the readable message', () => {
    const parsed = SearchFilters.safeParse({ tags: ['ok', 'b\u0000d'], folder: `/x${LONE_LOW}` });
    expect(parsed.success).toBe(false);
    expect(describeIssues(parsed.error as z.ZodError)).toBe(
      'tags.1: must not contain NUL characters (U+0000); folder: must be valid Unicode text (it holds a lone UTF-16 surrogate)',
    );
  });
});

// Consumers validate every payload, and INVALID_PAYLOAD is permanent: such a job fails at once, unretried.
describe('the public contracts refuse unstorable text in every text field', () => {
  const cases: Array<[string, () => z.ZodSafeParseResult<unknown>, string]> = [
    ['agent.answer question', () => jobContracts[JobName.AnswerQuestion].payload.safeParse({ tenantId: 'acme', question: 'why\u0000' }), 'question'],
    [
      'agent.answer filters.tags',
      () => jobContracts[JobName.AnswerQuestion].payload.safeParse({ tenantId: 'acme', question: 'why', filters: { tags: ['a\u0001'] } }),
      'filters.tags.0',
    ],
    [
      'agent.answer filters.folder',
      () => jobContracts[JobName.AnswerQuestion].payload.safeParse({ tenantId: 'acme', question: 'why', filters: { folder: '/a\u0000' } }),
      'filters.folder',
    ],
    ['retrieval.search query', () => jobContracts[JobName.SearchChunks].payload.safeParse({ tenantId: 'acme', query: `x${LONE_HIGH}` }), 'query'],
    [
      'retrieval.search variants',
      () => jobContracts[JobName.SearchChunks].payload.safeParse({ tenantId: 'acme', query: 'x', variants: ['fine', 'bad\u0000'] }),
      'variants.1',
    ],
    [
      'retrieval.search-batch request query',
      () => jobContracts[JobName.SearchChunksBatch].payload.safeParse({ requests: [{ tenantId: 'acme', query: 'ok' }, { tenantId: 'acme', query: '\u0000' }] }),
      'requests.1.query',
    ],
    [
      'ingestion.ingest-document correlationId',
      () =>
        jobContracts[JobName.IngestDocument].payload.safeParse({
          tenantId: 'acme',
          documentId: '2f1c7a4e-0000-4000-8000-000000000000',
          sha256: 'a'.repeat(64),
          correlationId: 'id\u0000',
        }),
      'correlationId',
    ],
  ];

  it.each(cases)('%s', (_, parse, path) => {
    const parsed = parse();
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual([path]);
  });
});
