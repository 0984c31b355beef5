import { randomUUID } from 'node:crypto';
import { ConversationRepository, type DataSource } from '@quarry/persistence';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import type { GatewayConfig } from '../src/config';
import { ServedDocument } from './openapi-harness';
import { issueTestKey, startGateway } from './start-gateway';

interface ConversationView {
  id: string;
  title: string;
  createdAt: string;
  updatedAt: string;
  messageCount: number;
}
interface Page {
  items: ConversationView[];
  total: number;
  limit: number;
  offset: number;
}
interface Detail extends ConversationView {
  messages: Array<{ role: string; content: string; citations: Array<{ documentId: string; filename: string }>; createdAt: string }>;
}

const citation = (filename: string, index = 1) => ({
  index,
  documentId: randomUUID(),
  chunkId: randomUUID(),
  filename,
  snippet: `from ${filename}`,
  score: 0.5,
  provenance: {},
});

/**
 * GET/DELETE /api/conversations in-process against real Postgres and Redis, with API keys of two
 * tenants. The exchanges are written the way the agent writes them (ConversationRepository).
 */
describe('conversations at the gateway', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  let repository: ConversationRepository;
  const keys: Record<string, Record<'read' | 'write', Record<string, string>>> = {};

  beforeAll(async () => {
    schema = await createTestSchema('gwconv');
    redis = createTestRedisPrefix('gwconv');
    service = await startGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix, RATE_LIMIT_PER_MINUTE: '0' });
    repository = new ConversationRepository(service.kit.dataSource);
    for (const tenant of ['conv-a', 'conv-b', 'conv-c']) {
      keys[tenant] = { read: (await issueTestKey(service, tenant, 'read')).headers, write: (await issueTestKey(service, tenant, 'write')).headers };
    }
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  const dataSource = (): DataSource => service.kit.dataSource;
  const api = (path: string, headers: Record<string, string>, method = 'GET') => fetch(`${service.url}${path}`, { method, headers });
  async function json<T>(response: Response, status = 200): Promise<T> {
    const text = await response.text();
    expect({ status: response.status, text }).toEqual({ status, text: expect.stringMatching(/^[[{]/) as unknown });
    return JSON.parse(text) as T;
  }
  /** Starts (or continues) a conversation as the agent records an answered question. */
  async function exchange(tenantId: string, question: string, options: { conversationId?: string; citations?: unknown[] } = {}): Promise<string> {
    const conversationId = options.conversationId ?? randomUUID();
    const written = await repository.appendExchange({
      tenantId,
      conversationId,
      startsConversation: options.conversationId === undefined,
      question,
      answer: `The answer to "${question}" [1].`,
      citations: options.citations ?? [citation('handbook.md')],
    });
    expect(written).toBe(true);
    return conversationId;
  }
  const messageRows = async (conversationId: string) =>
    (await dataSource().query<Array<{ n: number }>>('SELECT count(*)::int AS n FROM messages WHERE conversation_id = $1', [conversationId]))[0].n;
  /** A 404 body with the id asked about blanked out and the correlation id removed, to compare two 404s as wholes. */
  async function notFoundBody(response: Response, id: string): Promise<unknown> {
    expect(response.status).toBe(404);
    const body = JSON.parse((await response.text()).split(id).join('<id>')) as { error: Record<string, unknown> };
    expect(body.error.code).toBe('NOT_FOUND');
    delete body.error.correlationId;
    return { contentType: response.headers.get('content-type'), body };
  }

  it("lists only the caller's conversations, the most recently active first, with their message counts", async () => {
    const first = await exchange('conv-a', 'What is the vacation policy?');
    const second = await exchange('conv-a', 'Who approves travel?');
    const foreign = await exchange('conv-b', 'Where is the rocket fuel stored?');
    await exchange('conv-a', 'How many days of it can be carried over?', { conversationId: first });

    const page = await json<Page>(await api('/api/conversations', keys['conv-a'].read));
    expect(page).toMatchObject({ total: 2, limit: 50, offset: 0 });
    expect(page.items.map((item) => [item.id, item.title, item.messageCount])).toEqual([
      [first, 'What is the vacation policy?', 4],
      [second, 'Who approves travel?', 2],
    ]);
    expect(Date.parse(page.items[0].updatedAt)).toBeGreaterThan(Date.parse(page.items[0].createdAt));
    expect(JSON.stringify(page)).not.toContain(foreign);

    const other = await json<Page>(await api('/api/conversations', keys['conv-b'].read));
    expect(other.items.map((item) => item.id)).toEqual([foreign]);
    expect((await json<Page>(await api('/api/conversations', keys['conv-c'].read))).items).toEqual([]);
  });

  it('pages with limit and offset like the documents list, and refuses a bad page', async () => {
    const ids: string[] = [];
    for (let index = 0; index < 5; index++) ids.unshift(await exchange('conv-c', `Question number ${index}?`));
    const seen: string[] = [];
    for (const offset of [0, 2, 4]) {
      const page = await json<Page>(await api(`/api/conversations?limit=2&offset=${offset}`, keys['conv-c'].read));
      expect(page).toMatchObject({ total: 5, limit: 2, offset });
      seen.push(...page.items.map((item) => item.id));
    }
    expect(seen).toEqual(ids);
    expect((await json<Page>(await api('/api/conversations?offset=10', keys['conv-c'].read))).items).toEqual([]);
    for (const query of ['limit=0', 'limit=201', 'offset=-1', 'limit=two']) {
      const refused = await api(`/api/conversations?${query}`, keys['conv-c'].read);
      expect({ query, status: refused.status }).toEqual({ query, status: 400 });
    }
  });

  it('reads a conversation with its messages oldest first and their citations', async () => {
    const cited = citation('handbook.md');
    const id = await exchange('conv-a', 'What does the handbook say about parking?', { citations: [cited] });
    await exchange('conv-a', 'And for bicycles?', { conversationId: id, citations: [citation('parking.pdf'), citation('handbook.md', 2)] });
    const detail = await json<Detail>(await api(`/api/conversations/${id}`, keys['conv-a'].read));
    expect(detail).toMatchObject({ id, title: 'What does the handbook say about parking?', messageCount: 4 });
    expect(detail.messages.map((message) => [message.role, message.content.slice(0, 30)])).toEqual([
      ['user', 'What does the handbook say abo'],
      ['assistant', 'The answer to "What does the h'],
      ['user', 'And for bicycles?'],
      ['assistant', 'The answer to "And for bicycle'],
    ]);
    expect(detail.messages[0].citations).toEqual([]);
    expect(detail.messages[1].citations).toEqual([cited]);
    expect(detail.messages[3].citations.map((item) => item.filename)).toEqual(['parking.pdf', 'handbook.md']);
    const times = detail.messages.map((message) => Date.parse(message.createdAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it("answers another tenant's conversation exactly as one that never existed (404), and a malformed id with 400", async () => {
    const victim = await exchange('conv-b', 'What is the secret launch date?');
    const unknown = randomUUID();
    for (const method of ['GET', 'DELETE']) {
      const role = method === 'GET' ? 'read' : 'write';
      const foreign = await notFoundBody(await api(`/api/conversations/${victim}`, keys['conv-a'][role], method), victim);
      const missing = await notFoundBody(await api(`/api/conversations/${unknown}`, keys['conv-a'][role], method), unknown);
      expect(foreign).toEqual(missing);
      const malformed = await api('/api/conversations/not-a-uuid', keys['conv-a'][role], method);
      expect({ method, status: malformed.status }).toEqual({ method, status: 400 });
    }
    // The victim's conversation is untouched and still the victim's.
    expect(await messageRows(victim)).toBe(2);
    expect((await json<Detail>(await api(`/api/conversations/${victim}`, keys['conv-b'].read))).messages).toHaveLength(2);
  });

  it('deletes a conversation with its messages (write role), after which it can be neither read nor continued', async () => {
    const id = await exchange('conv-a', 'Which committee reviews the travel policy?');
    await exchange('conv-a', 'And how often?', { conversationId: id });
    const kept = await exchange('conv-a', 'Is this one kept?');
    const before = await json<Page>(await api('/api/conversations?limit=200', keys['conv-a'].read));

    expect((await api(`/api/conversations/${id}`, keys['conv-a'].read, 'DELETE')).status).toBe(403);
    expect(await messageRows(id)).toBe(4);
    const deleted = await api(`/api/conversations/${id}`, keys['conv-a'].write, 'DELETE');
    expect(deleted.status).toBe(204);
    expect(await deleted.text()).toBe('');

    expect(await messageRows(id)).toBe(0);
    expect((await api(`/api/conversations/${id}`, keys['conv-a'].read)).status).toBe(404);
    expect((await api(`/api/conversations/${id}`, keys['conv-a'].write, 'DELETE')).status).toBe(404);
    const after = await json<Page>(await api('/api/conversations?limit=200', keys['conv-a'].read));
    expect(after.total).toBe(before.total - 1);
    expect(after.items.map((item) => item.id)).toEqual(before.items.map((item) => item.id).filter((other) => other !== id));
    expect(await messageRows(kept)).toBe(2);

    // What the agent does with a question continuing it: the conversation is not found, and an
    // exchange written anyway (a reply already on its way) claims nothing and writes nothing.
    expect(await repository.exists('conv-a', id)).toBe(false);
    const continued = await repository.appendExchange({ tenantId: 'conv-a', conversationId: id, startsConversation: false, question: 'And then?', answer: 'Nothing.', citations: [] });
    expect(continued).toBe(false);
    expect(await messageRows(id)).toBe(0);
    expect((await api(`/api/conversations/${id}`, keys['conv-a'].read)).status).toBe(404);
  });

  it("never deletes another tenant's conversation, whatever key deletes it", async () => {
    const victim = await exchange('conv-b', 'What is in the vault?');
    for (const tenant of ['conv-a', 'conv-c']) {
      expect((await api(`/api/conversations/${victim}`, keys[tenant].write, 'DELETE')).status).toBe(404);
    }
    expect(await repository.exists('conv-b', victim)).toBe(true);
    expect(await messageRows(victim)).toBe(2);
    expect((await api(`/api/conversations/${victim}`, keys['conv-b'].write, 'DELETE')).status).toBe(204);
    expect(await repository.exists('conv-b', victim)).toBe(false);
  });

  it('answers exactly as its OpenAPI document says, errors included', async () => {
    const served = new ServedDocument((await (await fetch(`${service.url}/api/openapi.json`)).json()) as ServedDocument['document']);
    const id = await exchange('conv-c', 'What is documented?', { citations: [citation('api.md')] });
    const page = (await served.expectDocumented('GET', '/api/conversations', await api('/api/conversations?limit=3', keys['conv-c'].read))) as Page;
    expect(page.items.length).toBeGreaterThan(0);
    const detail = (await served.expectDocumented('GET', '/api/conversations/:id', await api(`/api/conversations/${id}`, keys['conv-c'].read))) as Detail;
    expect(detail.messages[1].citations[0].filename).toBe('api.md');
    await served.expectDocumented('GET', '/api/conversations', await api('/api/conversations?limit=0', keys['conv-c'].read));
    await served.expectDocumented('GET', '/api/conversations/:id', await api('/api/conversations/nope', keys['conv-c'].read));
    await served.expectDocumented('GET', '/api/conversations/:id', await api(`/api/conversations/${randomUUID()}`, keys['conv-c'].read));
    await served.expectDocumented('DELETE', '/api/conversations/:id', await api(`/api/conversations/${id}`, keys['conv-c'].read, 'DELETE'));
    await served.expectDocumented('DELETE', '/api/conversations/:id', await api(`/api/conversations/${id}`, keys['conv-c'].write, 'DELETE'));
    await served.expectDocumented('DELETE', '/api/conversations/:id', await api(`/api/conversations/${id}`, keys['conv-c'].write, 'DELETE'));
  });
});
