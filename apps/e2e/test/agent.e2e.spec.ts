import type { QueryTrace } from '@quarry/contracts';
import { ServiceStack, createTestRedisPrefix, createTestSchema, waitFor, type TestRedisPrefix, type TestSchema } from '@quarry/testing';

// The agent as a user meets it, with no model configured (the local defaults): five processes, real
// Postgres and Redis. Questions that need more than one retrieval, follow-ups, the audit trail.
jest.setTimeout(120_000);

const DOCUMENTS = {
  acme: ['acme-annual-report.md', '# Acme annual report 2025\n\nAcme Corporation ended the year with 1,250 employees across four sites. Revenue grew by 8%.\n'],
  globex: ['globex-annual-report.md', '# Globex annual report 2025\n\nGlobex had 830 employees at the end of the year, most of them in engineering.\n'],
  handbook: [
    'handbook.md',
    '# Employee handbook\n\n## Vacation\n\nEvery employee receives 27 days of paid vacation per calendar year. Up to 5 vacation days can be moved into the next year; the rest expire.\n',
  ],
  training: [
    'training-budget.md',
    '# Training budget\n\nUnused training days can be carried over for one year. At most 3 days of training leave can be carried over, and they must be booked by June.\n',
  ],
} as const;
type DocumentKey = keyof typeof DOCUMENTS;

interface Reply {
  answer: string;
  citations: Array<{ index: number; documentId: string; filename: string }>;
  conversationId: string;
  queryId: string;
  route: string;
  refinements: number;
  evaluation?: { overall: number };
}

describe('the agent end to end (local defaults)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let stack: ServiceStack;
  let key: Record<string, string>;
  const ids = {} as Record<DocumentKey, string>;

  const api = (path: string, init: RequestInit = {}) => fetch(`${stack.gatewayUrl}${path}`, { ...init, headers: { ...key, ...(init.headers as Record<string, string> | undefined) } });
  const ask = async (body: Record<string, unknown>): Promise<Reply> => {
    const response = await api('/api/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
    return (await response.json()) as Reply;
  };
  const traceOf = async (queryId: string): Promise<QueryTrace> => {
    // The trace is written behind the reply.
    let trace: QueryTrace | undefined;
    await waitFor(
      async () => {
        const response = await api(`/api/queries/${queryId}/trace`);
        if (response.status === 200) trace = (await response.json()) as QueryTrace;
        return trace !== undefined;
      },
      { timeoutMs: 10_000, description: `the trace of query ${queryId}` },
    );
    return trace as QueryTrace;
  };

  beforeAll(async () => {
    schema = await createTestSchema('e2e_agent');
    redis = createTestRedisPrefix('e2e-agent');
    stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix });
    await stack.start();
    key = { authorization: `Bearer ${await stack.createApiKey('default', 'write')}` };
    for (const [name, [filename, text]] of Object.entries(DOCUMENTS) as Array<[DocumentKey, readonly [string, string]]>) {
      const form = new FormData();
      form.append('file', new Blob([text], { type: 'text/markdown' }), filename);
      const response = await api('/api/documents', { method: 'POST', body: form });
      expect(response.status).toBe(202);
      ids[name] = ((await response.json()) as { documentId: string }).documentId;
    }
    await waitFor(
      async () => {
        const statuses = await Promise.all(Object.values(ids).map(async (id) => ((await (await api(`/api/documents/${id}`)).json()) as { status: string }).status));
        return statuses.every((status) => status === 'indexed');
      },
      { timeoutMs: 60_000, description: 'the four documents to be indexed' },
    );
  });

  afterAll(async () => {
    await stack?.stop();
    await redis?.cleanup();
    await schema?.drop();
  });

  it('computes a difference of figures from two documents, citing both, and the trace shows plan → two searches → calculator → evaluation', async () => {
    const reply = await ask({ question: 'How many more employees does Acme have than Globex?' });
    expect(reply.route).toBe('complex');
    expect(reply.answer).toMatch(/\b420\b/);
    expect(new Set(reply.citations.map((citation) => citation.documentId))).toEqual(new Set([ids.acme, ids.globex]));

    const trace = await traceOf(reply.queryId);
    const story = trace.steps
      .filter((step) => step.type === 'plan' || step.type === 'tool' || step.type === 'evaluation')
      .map((step) => (step.type === 'tool' ? `${step.tool}:${step.outcome}` : step.type));
    expect(story).toEqual(['plan', 'search:ok', 'search:ok', 'calculator:ok', 'evaluation']);
    const calculation = trace.steps.find((step) => step.type === 'tool' && step.tool === 'calculator');
    expect(calculation).toMatchObject({ input: { variables: { v1: 1250, v2: 830 } } });
    expect(trace.answer).toBe(reply.answer);
    expect(trace.sentences.filter((sentence) => sentence.supportedBy !== null).length).toBeGreaterThanOrEqual(2);
  });

  it('renders the audit report of a query, per sentence with its supporting passage, in Markdown and HTML', async () => {
    const reply = await ask({ question: 'How many paid vacation days does every employee receive?' });
    await traceOf(reply.queryId);
    const markdown = await api(`/api/queries/${reply.queryId}/report`);
    expect(markdown.status).toBe(200);
    expect(markdown.headers.get('content-type')).toContain('text/markdown');
    const text = await markdown.text();
    expect(text).toContain('handbook.md');
    expect(text).toContain('27 days');
    const html = await api(`/api/queries/${reply.queryId}/report?format=html`);
    expect(html.headers.get('content-type')).toContain('text/html');
    expect(await html.text()).toContain('handbook.md');
  });

  it('answers a follow-up that only makes sense with the previous turn from the document that turn was about', async () => {
    const question = 'How many days of it can be carried over?';
    // Alone, the question is about whatever "carried over" best matches: the training budget.
    const alone = await ask({ question });
    expect(alone.citations[0]?.documentId).toBe(ids.training);
    expect(alone.answer).not.toContain('5 vacation days');

    const first = await ask({ question: 'What is the vacation policy?' });
    expect(first.citations.map((citation) => citation.documentId)).toContain(ids.handbook);
    const followUp = await ask({ question, conversationId: first.conversationId });
    expect(followUp.conversationId).toBe(first.conversationId);
    expect(new Set(followUp.citations.map((citation) => citation.documentId))).toEqual(new Set([ids.handbook]));
    expect(followUp.answer).toContain('5 vacation days');
    expect(followUp.answer).not.toContain('training');

    const trace = await traceOf(followUp.queryId);
    expect(trace.standaloneQuestion).toBeDefined();
    expect(trace.steps).toContainEqual(expect.objectContaining({ type: 'decision', node: 'history', decision: 'follow-up' }));

    const conversation = (await (await api(`/api/conversations/${first.conversationId}`)).json()) as { messages: Array<{ role: string; content: string }> };
    expect(conversation.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(conversation.messages[2].content).toBe(question);
  });
});
