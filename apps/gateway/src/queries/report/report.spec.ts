import { escapeHtml, renderHtmlReport } from './html-report';
import { markdownCode, markdownText, renderMarkdownReport } from './markdown-report';
import { auditReport } from './report-model';

describe('audit report renderers', () => {
  it('Markdown text: one line, no inline markup, no block start', () => {
    expect(markdownText('a *b* _c_ `d` [e](f) <g> &amp; ~h~ |i| \\j')).toBe('a \\*b\\* \\_c\\_ \\`d\\` \\[e\\](f) \\<g\\> \\&amp; \\~h\\~ \\|i\\| \\\\j');
    expect(markdownText('line one\n\n# heading\n- item')).toBe('line one # heading - item');
    for (const start of ['# title', '> quote', '- item', '+ item', '1. item', '2) item', '---']) expect(markdownText(start).startsWith('\\')).toBe(true);
    for (const plain of ['0.67', '-5 degrees', '#hashtag', '2024 figures']) expect(markdownText(plain)).toBe(plain);
  });

  it('Markdown code spans hold any text verbatim, backticks included', () => {
    expect(markdownCode('{"a":1}')).toBe('`{"a":1}`');
    expect(markdownCode('a `b` c')).toBe('``a `b` c``');
    expect(markdownCode('`x`')).toBe('`` `x` ``');
    expect(markdownCode('two\nlines')).toBe('`two lines`');
  });

  it('HTML escaping covers text and attribute values', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  });

  it('says so when there is nothing to report in a section (a cached answer with no citations)', () => {
    const report = auditReport({
      queryId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
      conversationId: '0b9d5c2e-8f3a-4c61-9d2e-5a7b8c9d0e1f',
      question: 'Anything?',
      source: 'answer-cache',
      startedAt: '2025-01-15T09:30:00.000Z',
      durationMs: 1,
      generator: 'extractive',
      answer: 'No answer found.',
      citations: [],
      sentences: [{ text: 'No answer found.', cited: [], supportedBy: null }],
      refinements: 0,
      usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
      steps: [],
    });
    const markdown = renderMarkdownReport(report);
    expect(markdown).toContain('- **Answered by:** the answer cache');
    expect(markdown).toContain('- **Route:** none');
    for (const note of ['_Not evaluated._', '_No steps recorded._', '_No sources cited._']) expect(markdown).toContain(note);
    expect(markdown).toContain('1. No answer found.\n   - cites none; **⚠ no supporting passage**');
    const html = renderHtmlReport(report);
    expect(html).toContain('<p><em>No sources cited.</em></p>');
    expect(html).toContain('<li>No answer found.<br>cites none; <span class="unsupported">⚠ no supporting passage</span></li>');
  });
});
