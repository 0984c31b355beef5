import { startFakeOpenAiServer } from '@quarry/testing';
import { OpenAiDocumentAnalyzer, parseModelAnalysis } from './document-analyzer';

describe('parseModelAnalysis', () => {
  it('reads JSON wrapped in prose or code fences', () => {
    const reply = 'Sure!\n```json\n{"summary":"A handbook.","tags":["HR","Policy","hr"],"language":"EN","chunking":"by heading"}\n```';
    expect(parseModelAnalysis(reply)).toEqual({ summary: 'A handbook.', suggestedTags: ['hr', 'policy'], language: 'en', chunkingRecommendation: 'by heading' });
  });

  it('drops bad optional fields but keeps the summary', () => {
    expect(parseModelAnalysis('{"summary":"S","tags":"nope","language":7}')).toEqual({ summary: 'S', suggestedTags: [], language: 'und' });
  });

  it('rejects answers without a usable summary or without JSON', () => {
    expect(parseModelAnalysis('no json here')).toBeUndefined();
    expect(parseModelAnalysis('{"tags":["a"]}')).toBeUndefined();
    expect(parseModelAnalysis('{"summary": "unterminated')).toBeUndefined();
  });
});

describe('OpenAiDocumentAnalyzer', () => {
  it('asks the configured model and parses its answer', async () => {
    const server = await startFakeOpenAiServer({ reply: '{"summary":"About vacation.","tags":["leave"],"language":"en"}' });
    try {
      const analyzer = new OpenAiDocumentAnalyzer({ baseUrl: server.baseUrl, model: 'fake-analyst' });
      await expect(analyzer.analyze('handbook.md', 'Employees get 27 days.')).resolves.toEqual({
        summary: 'About vacation.',
        suggestedTags: ['leave'],
        language: 'en',
      });
      expect(server.requests[0].body.model).toBe('fake-analyst');
    } finally {
      await server.close();
    }
  });

  it('reports endpoint failures with the endpoint named', async () => {
    const server = await startFakeOpenAiServer({ failure: { status: 500, message: 'boom' } });
    try {
      const analyzer = new OpenAiDocumentAnalyzer({ baseUrl: server.baseUrl, model: 'm' });
      await expect(analyzer.analyze('x.md', 'text')).rejects.toThrow(server.baseUrl);
    } finally {
      await server.close();
    }
  });
});
