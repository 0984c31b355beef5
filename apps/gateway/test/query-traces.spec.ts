import { randomUUID } from 'node:crypto';
import type { QueryTrace } from '@quarry/contracts';
import { ConversationRepository, QueryTraceRepository } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import { REPORT_CONTENT_SECURITY_POLICY } from '../src/queries/report/html-report';
import { issueTestKey, startGateway } from './start-gateway';

const ATTACK = '<script>alert(1)</script>';

/** GET /api/queries/{id}/trace and /report on real Postgres: the owner reads, another tenant gets the 404 of a query that never was. */
describe('query traces and audit reports at the gateway', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  let acme: Record<string, string>;
  let globex: Record<string, string>;
  let trace: QueryTrace;

  beforeAll(async () => {
    schema = await createTestSchema('gwtraces');
    redis = createTestRedisPrefix('gwtraces');
    service = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, RATE_LIMIT_PER_MINUTE: '0' });
    acme = (await issueTestKey(service, 'acme', 'read')).headers;
    globex = (await issueTestKey(service, 'globex', 'read')).headers;

    const conversationId = randomUUID();
    const documentId = randomUUID();
    await new ConversationRepository(service.kit.dataSource).appendExchange({ tenantId: 'acme', conversationId, startsConversation: true, question: 'q', answer: 'a', citations: [] });
    trace = {
      queryId: randomUUID(),
      conversationId,
      question: 'What is the difference between the 2023 and 2024 revenue?',
      source: 'agent',
      route: 'complex',
      startedAt: '2025-01-15T09:30:00.000Z',
      durationMs: 88.4,
      generator: 'extractive',
      answer: `Revenue was 12 million in 2023 [1]. Revenue was 15 million in 2024 [2]. The difference is 3 million ${ATTACK} [1][2].`,
      citations: [1, 2].map((index) => ({
        index,
        documentId,
        chunkId: randomUUID(),
        filename: `report-${index}.md`,
        snippet: index === 1 ? 'Revenue was 12 million in 2023.' : `Revenue was 15 million in 2024. ${ATTACK} [evil](javascript:alert(1))`,
        score: 0.5 + index / 10,
        provenance: {},
      })),
      sentences: [
        { text: 'Revenue was 12 million in 2023 [1].', cited: [1], supportedBy: 1 },
        { text: 'Revenue was 15 million in 2024 [2].', cited: [2], supportedBy: 2 },
        { text: `The difference is 3 million ${ATTACK} [1][2].`, cited: [1, 2], supportedBy: null },
      ],
      evaluation: { groundedness: 0.67, coverage: 0.9, citationValidity: 1, overall: 0.82 },
      refinements: 1,
      usage: { promptTokens: 120, completionTokens: 30, totalTokens: 150 },
      steps: [
        { type: 'node', node: 'analyze', atMs: 0, durationMs: 0.8, outcome: 'ok' },
        { type: 'decision', node: 'analyze', atMs: 0.8, decision: 'complex', reason: 'a difference of two figures' },
        {
          type: 'plan',
          atMs: 1,
          round: 0,
          reason: 'one search per year, then the calculator',
          steps: [
            { id: 's1', tool: 'search', input: { query: 'revenue 2023' }, dependsOn: [], purpose: 'the 2023 figure' },
            { id: 's3', tool: 'calculator', input: { expression: '15 - 12' }, dependsOn: ['s1'], purpose: 'the difference' },
          ],
        },
        { type: 'tool', atMs: 2, stepId: 's1', tool: 'search', input: { query: `revenue 2023 ${ATTACK}` }, outcome: 'ok', summary: '3 passages', durationMs: 9.5 },
        { type: 'tool', atMs: 12, stepId: 's3', tool: 'calculator', input: { expression: '15 - 12' }, outcome: 'ok', summary: '3', durationMs: 0.2 },
        { type: 'model', atMs: 13, model: 'fake-model', purpose: 'synthesize', promptTokens: 120, completionTokens: 30, durationMs: 40 },
        { type: 'evaluation', atMs: 60, round: 0, scores: { groundedness: 0.5, coverage: 0.9, citationValidity: 1, overall: 0.7 }, threshold: 0.75, evaluator: 'local' },
        { type: 'refinement', atMs: 61, round: 1, action: 'broaden', query: 'revenue 2023 2024', reason: 'groundedness below the threshold' },
      ],
    };
    expect(await new QueryTraceRepository(service.kit.dataSource).insertMany([{ tenantId: 'acme', conversationId, trace }])).toBe(1);
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const get = (path: string, headers: Record<string, string>) => fetch(`${service.url}${path}`, { headers });

  it('gives the owner its trace as JSON', async () => {
    const response = await get(`/api/queries/${trace.queryId}/trace`, acme);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toEqual(trace);
  });

  it('renders the report as Markdown by default: every section, support per sentence, nothing of the documents as markup', async () => {
    const response = await get(`/api/queries/${trace.queryId}/report`, acme);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    const markdown = await response.text();
    for (const section of ['## Answer', '## Evaluation', '## Steps', '## Sources', '## Sentence support']) expect(markdown).toContain(section);
    expect(markdown).toContain(`- **Question:** ${trace.question}`);
    expect(markdown).toContain('**Groundedness:** 0.67');
    expect(markdown).toContain('**Tool call: search (ok)**');
    expect(markdown).toContain('**Model call: fake-model (synthesize)**');
    expect(markdown).toContain('120 prompt + 30 completion');
    expect(markdown).toContain('**Refinement 1: broaden**');
    expect(markdown).toContain('`{"tool":"calculator","input":{"expression":"15 - 12"},"dependsOn":["s1"],"purpose":"the difference"}`');
    expect(markdown).toContain('**\\[2\\] report-2.md**');
    expect(markdown).toContain('supported by \\[1\\] report-1.md');
    expect(markdown.match(/⚠ no supporting passage/g)).toHaveLength(1);
    // Untrusted text: no raw tag, no link outside a code span.
    const outsideCode = markdown.replace(/`[^`\n]*`/g, '');
    expect(outsideCode).not.toContain('<script>');
    expect(outsideCode).toContain('\\<script\\>');
    expect(outsideCode).not.toMatch(/[^\\]\[evil\]/);
  });

  it('renders the report as HTML (?format=html or Accept: text/html), every value escaped, under a policy that lets nothing run or load', async () => {
    for (const [path, headers] of [
      [`/api/queries/${trace.queryId}/report?format=html`, acme],
      [`/api/queries/${trace.queryId}/report`, { ...acme, accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }],
    ] as const) {
      const response = await get(path, headers);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toBe(REPORT_CONTENT_SECURITY_POLICY);
      expect(REPORT_CONTENT_SECURITY_POLICY).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      const html = await response.text();
      expect(html).not.toContain('<script');
      expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
      expect(html).toContain('<h2>Sentence support</h2>');
      expect(html).toContain('<span class="unsupported">⚠ no supporting passage</span>');
      expect(html).toContain('supported by [2] report-2.md');
      expect(html).toContain('&quot;expression&quot;:&quot;15 - 12&quot;');
    }
    // ?format wins over Accept.
    const markdown = await get(`/api/queries/${trace.queryId}/report?format=markdown`, { ...acme, accept: 'text/html' });
    expect(markdown.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
  });

  it("completes a cached serving's trace (stored without answer, citations and sentences) from its conversation's answer", async () => {
    const conversationId = randomUUID();
    const citation = { index: 1, documentId: randomUUID(), chunkId: randomUUID(), filename: 'handbook.md', snippet: 'Employees get 31 days of paid vacation per year.', score: 0.8, provenance: {} };
    const answer = 'Employees get 31 days of paid vacation [1]. Ask the rocket team [1].';
    await new ConversationRepository(service.kit.dataSource).appendExchange({ tenantId: 'acme', conversationId, startsConversation: true, question: 'Vacation days?', answer, citations: [citation] });
    const { answer: _answer, citations: _citations, sentences: _sentences, ...rest } = trace;
    const stored = { ...rest, queryId: randomUUID(), conversationId, source: 'answer-cache' as const, route: undefined, evaluation: undefined, steps: [] };
    expect(await new QueryTraceRepository(service.kit.dataSource).insertMany([{ tenantId: 'acme', conversationId, trace: stored }])).toBe(1);

    const response = await get(`/api/queries/${stored.queryId}/trace`, acme);
    expect(response.status).toBe(200);
    const body = (await response.json()) as QueryTrace;
    expect(body).toMatchObject({ queryId: stored.queryId, source: 'answer-cache', answer, citations: [citation] });
    expect(body.sentences).toEqual([
      { text: 'Employees get 31 days of paid vacation [1].', cited: [1], supportedBy: 1 },
      { text: 'Ask the rocket team [1].', cited: [1], supportedBy: null },
    ]);
    expect((await get(`/api/queries/${stored.queryId}/trace`, globex)).status).toBe(404);
  });

  it("answers another tenant exactly as for a query that never existed (404), and a malformed id or format with 400", async () => {
    const unknown = randomUUID();
    for (const suffix of ['trace', 'report', 'report?format=html']) {
      const foreign = await get(`/api/queries/${trace.queryId}/${suffix}`, globex);
      const missing = await get(`/api/queries/${unknown}/${suffix}`, globex);
      const [foreignBody, missingBody] = [await foreign.text(), await missing.text()];
      expect({ suffix, status: foreign.status, type: foreign.headers.get('content-type') }).toEqual({ suffix, status: 404, type: missing.headers.get('content-type') });
      const comparable = (body: string, id: string) => {
        const parsed = JSON.parse(body.split(id).join('<id>')) as { error: Record<string, unknown> };
        delete parsed.error.correlationId;
        return parsed;
      };
      expect(comparable(foreignBody, trace.queryId)).toEqual(comparable(missingBody, unknown));
      expect(comparable(foreignBody, trace.queryId)).toEqual({ error: { code: 'NOT_FOUND', message: 'query <id> not found' } });
      expect(foreignBody).not.toContain('Revenue');
    }
    expect((await get('/api/queries/not-a-uuid/trace', acme)).status).toBe(400);
    expect((await get(`/api/queries/${trace.queryId}/report?format=pdf`, acme)).status).toBe(400);
    expect((await get(`/api/queries/${trace.queryId}/trace`, {})).status).toBe(401);
  });
});
