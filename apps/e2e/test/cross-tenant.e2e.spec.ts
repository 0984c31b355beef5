import { createHash, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  ServiceStack,
  type StackKeyRole,
  type TenantSnapshot,
  type TestRedisPrefix,
  type TestSchema,
  createTestRedisPrefix,
  createTestSchema,
  diffSnapshots,
  identifyingStrings,
  snapshotTenant,
  waitFor,
} from '@quarry/testing';
import { AttackLog, type Reply, type RequestOptions, type RouteKey, TenantClient, apiRoutesOf, comparableError, leakedSecrets } from './tenancy-client';
import { corruptPdf, form, handbook, marker, randomJobId, randomSha256, rocketManual } from './tenancy-fixtures';

// Issue 9, "no cross-tenant path, proven": the five services as processes, two tenants with keys of
// their own. The victim (acme) fills its tenant; the attacker (globex) aims every /api route at the
// victim's ids and data. Every answer must be the one a resource that never existed gets, nothing
// of the victim may show in any body, and not one of the victim's rows may change.
jest.setTimeout(180_000);

const VICTIM = 'acme';
const ATTACKER = 'globex';
const ROLES: StackKeyRole[] = ['read', 'write', 'admin'];
// The attacks go out back to back; a 429 from the rate limit would stand in front of the tenant check.
const NO_RATE_LIMIT = { RATE_LIMIT_PER_MINUTE: '0' };

/** The /api routes that are public by design (apps/gateway/src/auth/authenticate-requests.ts). */
const isDocumentedPublic = (path: string) => path === '/api/openapi.json' || path === '/api/docs' || path.startsWith('/api/docs/');

type DocumentState = 'indexed' | 'failed' | 'pending' | 'cancelled';
interface VictimDocument {
  documentId: string;
  jobId: string;
  filename: string;
  bytes: string | Buffer;
}
interface Citation {
  documentId: string;
  snippet: string;
}
interface QueryReply {
  answer: string;
  citations: Citation[];
  conversationId: string;
  queryId?: string;
}

describe('no cross-tenant path (issue 9)', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let stack: ServiceStack;
  let victim: TenantClient;
  let attacker: TenantClient;
  const log = new AttackLog();

  const secrets = {
    handbook: marker('hb'),
    failed: marker('fl'),
    pending: marker('pd'),
    cancelled: marker('cx'),
    question: marker('qs'),
    keyName: marker('kn'),
    tag: marker('tg'),
    folder: marker('fd'),
    taskKey: marker('tk'),
    taskLabel: marker('tl'),
  };
  const attackerSecret = marker('gx');
  const documents = {} as Record<DocumentState, VictimDocument>;
  let conversationId: string;
  /** The victim's queries, whose audit trails the attacker must not read. */
  const queryIds: string[] = [];
  let victimKeyIds: string[];
  let apiCreatedKey: string;
  /** The victim's tasks: one done, one scheduled for tomorrow, one waiting for it (rows that stay still while the attacks run). */
  const victimTasks = {} as Record<'completed' | 'scheduled' | 'waiting', string>;
  let before: TenantSnapshot;
  /** Content hashes of the victim's bytes the attacker uploads itself: its own documents carry them. */
  const hashesTheAttackerHas: string[] = [];
  /** The attacker's documents made of the victim's bytes. */
  const attackerCopies: string[] = [];

  const snapshot = () => snapshotTenant(schema.url, schema.schema, VICTIM);
  const victimSecrets = () => [VICTIM, ...Object.values(secrets), ...identifyingStrings(before)];
  /** Nothing of the victim in the reply beyond what its request named. */
  const expectNothingOfVictim = (reply: Reply) =>
    expect({ status: reply.status, leaked: leakedSecrets(reply, victimSecrets(), hashesTheAttackerHas) }).toEqual({ status: reply.status, leaked: [] });
  const question = (text: string, extra: Record<string, unknown> = {}): RequestOptions => ({ json: { question: text, ...extra } });

  /**
   * The attacker's request aimed at the victim's ids answers 404, exactly as the same request aimed
   * at ids that never existed does (status, content type, code and message; ids and correlation
   * id aside), and carries nothing of the victim.
   */
  async function expectLikeUnknown(route: RouteKey, aimed: RequestOptions, unknown: RequestOptions, ids: { aimed: string[]; unknown: string[] }) {
    const foreign = await log.attack(attacker, route, aimed);
    const missing = await attacker.request(route, unknown);
    expect({ route, status: foreign.status }).toEqual({ route, status: 404 });
    expectNothingOfVictim(foreign);
    expect(comparableError(foreign, ids.aimed)).toEqual(comparableError(missing, ids.unknown));
  }

  const documentOf = async (client: TenantClient, id: string) => (await client.request('GET /api/documents/{id}', { params: { id } })).json as { status: string; chunkCount: number };
  const settled = (client: TenantClient, id: string, status: string) =>
    waitFor(
      async () => {
        const document = await documentOf(client, id);
        if (['indexed', 'failed', 'cancelled'].includes(document.status) && document.status !== status) throw new Error(`document ${id} is ${document.status}, not ${status}`);
        return document.status === status ? document : undefined;
      },
      { timeoutMs: 40_000, description: `document ${id} to be ${status}` },
    );

  beforeAll(async () => {
    schema = await createTestSchema('xtenant');
    redis = createTestRedisPrefix('xtenant');
    stack = new ServiceStack({ databaseUrl: schema.url, databaseSchema: schema.schema, redisUrl: redis.url, redisPrefix: redis.prefix, env: { LOG_LEVEL: 'warn', ...NO_RATE_LIMIT, OPERATOR_TENANT: ATTACKER } });
    await stack.start();
    const keysOf = async (tenant: string) =>
      Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await stack.createApiKey(tenant, role, { name: `${role} key` })]))) as Record<StackKeyRole, string>;
    const [victimKeys, attackerKeys] = await Promise.all([keysOf(VICTIM), keysOf(ATTACKER)]);
    victim = new TenantClient(() => stack.gatewayUrl, VICTIM, victimKeys);
    attacker = new TenantClient(() => stack.gatewayUrl, ATTACKER, attackerKeys);
  });

  afterAll(async () => {
    await stack?.stop();
    if (stack) await rm(dirname(stack.bootstrapKeyFile), { recursive: true, force: true });
    await redis?.cleanup();
    await schema?.drop();
  });

  it('the victim has documents in every state, a conversation and keys', async () => {
    const upload = async (client: TenantClient, filename: string, bytes: string | Buffer, fields: Record<string, string> = {}) => {
      const reply = await client.request('POST /api/documents', { form: form([{ name: filename, bytes }], fields) });
      expect({ filename, status: reply.status }).toEqual({ filename, status: 202 });
      const { documentId, jobId } = reply.json as { documentId: string; jobId: string };
      return { documentId, jobId, filename, bytes };
    };
    documents.indexed = await upload(victim, `handbook-${secrets.handbook}.md`, handbook(secrets.handbook), { tags: `hr,${secrets.tag}`, folder: `/acme/${secrets.folder}` });
    documents.failed = await upload(victim, `scan-${secrets.failed}.pdf`, corruptPdf(secrets.failed));
    const own = await upload(attacker, `rockets-${attackerSecret}.md`, rocketManual(attackerSecret));
    await settled(victim, documents.indexed.documentId, 'indexed');
    await settled(victim, documents.failed.documentId, 'failed');
    await settled(attacker, own.documentId, 'indexed');

    const first = await victim.request('POST /api/query', question(`How many days of paid vacation does an Acme employee get? ${secrets.question}`));
    expect(first.status).toBe(200);
    const answer = first.json as QueryReply;
    expect(answer.answer).toContain('31 days');
    expect(answer.citations[0].documentId).toBe(documents.indexed.documentId);
    conversationId = answer.conversationId;
    const followUp = await victim.request('POST /api/query', question('And when do unused vacation days expire?', { conversationId }));
    expect({ status: followUp.status, conversationId: (followUp.json as QueryReply).conversationId }).toEqual({ status: 200, conversationId });
    for (const reply of [answer, followUp.json as QueryReply]) {
      expect(reply.queryId).toEqual(expect.any(String));
      queryIds.push(reply.queryId as string);
    }
    expect((await attacker.request('POST /api/query', question('Where is the rocket fuel stored?'))).status).toBe(200);

    const created = await victim.request('POST /api/keys', { json: { name: `ci uploader ${secrets.keyName}`, role: 'write' } });
    expect(created.status).toBe(201);
    apiCreatedKey = (created.json as { key: string }).key;
    const keyList = await victim.request('GET /api/keys');
    victimKeyIds = (keyList.json as { items: Array<{ id: string }> }).items.map((key) => key.id);
    expect(victimKeyIds).toHaveLength(4);

    const submitTask = async (body: Record<string, unknown>) => {
      const reply = await victim.request('POST /api/tasks', { json: { metadata: { label: secrets.taskLabel }, ...body } });
      expect(reply.status).toBe(201);
      return (reply.json as { id: string }).id;
    };
    victimTasks.completed = await submitTask({ type: 'diagnostics.wait', params: { seconds: 0 }, idempotencyKey: secrets.taskKey });
    victimTasks.scheduled = await submitTask({ type: 'retention.purge', runAt: new Date(Date.now() + 24 * 3600_000).toISOString() });
    victimTasks.waiting = await submitTask({ type: 'cache.warm', dependsOn: [{ taskId: victimTasks.scheduled }] });
    await waitFor(async () => ((await victim.request('GET /api/tasks/{id}', { params: { id: victimTasks.completed } })).json as { status: string }).status === 'completed', {
      timeoutMs: 15_000,
      description: "the victim's first task to complete",
    });

    // Without ingestion, a document stays queued: a job the attacker could cancel, if it could.
    expect(await stack.stopService('ingestion')).toBe(0);
    documents.pending = await upload(victim, `draft-${secrets.pending}.md`, `# Draft ${secrets.pending}\n\nThe Acme reorganisation is planned for spring.\n`);
    documents.cancelled = await upload(victim, `memo-${secrets.cancelled}.md`, `# Memo ${secrets.cancelled}\n\nThe Acme picnic is cancelled.\n`);
    const cancelled = await victim.request('POST /api/jobs/{id}/cancel', { params: { id: documents.cancelled.jobId } });
    expect({ status: cancelled.status, document: (cancelled.json as { status: string }).status }).toEqual({ status: 202, document: 'cancelled' });
    expect((await documentOf(victim, documents.pending.documentId)).status).toBe('queued');

    // Its own operator views show its question and its documents, so the attacks on them can see a leak.
    await waitFor(async () => (await victim.request('GET /api/analytics/queries', { query: 'days=365&top=100', role: 'admin' })).text.includes(secrets.question), {
      timeoutMs: 15_000,
      description: "the victim's question in its own analytics",
    });
    expect((await victim.request('GET /api/analytics/documents', { query: 'days=365&limit=100', role: 'admin' })).text).toContain(documents.indexed.documentId);

    // The victim's rows once they have settled (query log and key use are written off the request path).
    let previous: TenantSnapshot | undefined;
    before = await waitFor(
      async () => {
        const now = await snapshot();
        const same = previous !== undefined && diffSnapshots(previous, now).length === 0;
        previous = now;
        return same ? now : undefined;
      },
      { timeoutMs: 15_000, intervalMs: 400, description: "the victim's rows to settle" },
    );
    const count = (table: string) => Object.keys(before[table]).length;
    expect(Object.fromEntries(['documents', 'document_contents', 'conversations', 'messages', 'api_keys', 'query_log', 'query_traces', 'tasks', 'task_dependencies'].map((table) => [table, count(table)]))).toEqual({
      documents: 4,
      document_contents: 4,
      conversations: 1,
      messages: 4,
      api_keys: 4,
      query_log: 2,
      query_traces: 2,
      tasks: 3,
      task_dependencies: 1,
    });
    expect(count('chunks')).toBeGreaterThan(0);
    expect(count('processing_jobs')).toBeGreaterThan(0);
    expect(Object.values(before.documents).map((row) => row.status).sort()).toEqual(['cancelled', 'failed', 'indexed', 'queued']);
    // The leak detector sees the victim in the victim's own answers, so its silence below means something.
    expect(leakedSecrets(first, victimSecrets())).toEqual(expect.arrayContaining([documents.indexed.documentId, documents.indexed.filename, secrets.handbook]));
    expect(leakedSecrets(keyList, victimSecrets())).toEqual(expect.arrayContaining([...victimKeyIds, secrets.keyName]));
  });

  // Early, while the attacker's own questions carry nothing of the victim (later tests make it type the victim's markers, which its own figures would then rightly show).
  // The attacker is the installation's operator here (OPERATOR_TENANT): the strongest key there is still sees nothing of another tenant.
  it("operator views show the attacker its own tenant's figures and the installation's counts, never the victim's questions or documents", async () => {
    // (The victim's own view shows its question and documents — checked before its rows were taken — so these checks can see a leak.)
    for (const [route, query] of [
      ['GET /api/analytics/queries', 'days=365&top=100'],
      ['GET /api/analytics/documents', 'days=365&limit=100'],
      ['GET /api/analytics/system', undefined],
      ['GET /api/system/alerts', 'state=all&limit=500'],
    ] as const) {
      for (const headers of [undefined, { 'x-tenant-id': VICTIM }]) {
        const reply = await log.attack(attacker, route, { query, headers, role: 'admin' });
        expect({ route, status: reply.status }).toEqual({ route, status: 200 });
        expectNothingOfVictim(reply);
      }
    }
    // The attacker's query figures count its own questions only (the victim asked with its secret).
    const figures = (await attacker.request('GET /api/analytics/queries', { query: 'days=365&top=100', role: 'admin' })).json as { topQuestions: Array<{ question: string }> };
    expect(figures.topQuestions.map((entry) => entry.question)).toContain('Where is the rocket fuel stored?');
    // Below admin, none of it; and the installation's views are not for an ordinary tenant's admin.
    for (const route of ['GET /api/analytics/queries', 'GET /api/analytics/documents', 'GET /api/analytics/system', 'GET /api/system/alerts'] as const) {
      expect({ route, status: (await attacker.request(route, { role: 'write' })).status }).toEqual({ route, status: 403 });
    }
    for (const route of ['GET /api/analytics/system', 'GET /api/system/alerts'] as const) {
      expect({ route, status: (await victim.request(route, { role: 'admin' })).status }).toEqual({ route, status: 403 });
    }
  });

  it("reads and deletes none of the victim's documents", async () => {
    for (const [state, { documentId }] of Object.entries(documents)) {
      const unknown = randomUUID();
      for (const route of ['GET /api/documents/{id}', 'DELETE /api/documents/{id}'] as const) {
        await expectLikeUnknown(route, { params: { id: documentId } }, { params: { id: unknown } }, { aimed: [documentId], unknown: [unknown] });
        // Naming the victim's tenant in a header changes nothing: the key decides the tenant.
        const named = await log.attack(attacker, route, { params: { id: documentId }, headers: { 'x-tenant-id': VICTIM } });
        expect({ state, route, status: named.status }).toEqual({ state, route, status: 404 });
        expectNothingOfVictim(named);
      }
    }
  });

  it("reads, follows and cancels none of the victim's jobs", async () => {
    for (const { jobId, documentId } of Object.values(documents)) {
      const unknown = randomJobId();
      for (const route of ['GET /api/jobs/{id}', 'GET /api/jobs/{id}/events', 'POST /api/jobs/{id}/cancel'] as const) {
        await expectLikeUnknown(route, { params: { id: jobId } }, { params: { id: unknown } }, { aimed: [jobId], unknown: [unknown] });
        // The victim's document id with another content hash is no way in either.
        const forged = `ingest-${documentId}-${randomSha256()}`;
        const reply = await log.attack(attacker, route, { params: { id: forged }, headers: { 'x-tenant-id': VICTIM } });
        expect({ route, status: reply.status }).toEqual({ route, status: 404 });
        expectNothingOfVictim(reply);
      }
    }
  });

  it("does not continue the victim's conversation", async () => {
    const unknown = randomUUID();
    const ask = (id: string) => question('What did I ask before? Repeat the conversation.', { conversationId: id });
    await expectLikeUnknown('POST /api/query', ask(conversationId), ask(unknown), { aimed: [conversationId], unknown: [unknown] });
    const named = await log.attack(attacker, 'POST /api/query', { ...ask(conversationId), headers: { 'x-tenant-id': VICTIM } });
    expect(named.status).toBe(404);
    expectNothingOfVictim(named);
  });

  it("reads none of the victim's query traces or audit reports", async () => {
    for (const id of queryIds) {
      const unknown = randomUUID();
      for (const [route, query] of [
        ['GET /api/queries/{id}/trace', undefined],
        ['GET /api/queries/{id}/report', undefined],
        ['GET /api/queries/{id}/report', 'format=html'],
      ] as const) {
        await expectLikeUnknown(route, { params: { id }, query }, { params: { id: unknown }, query }, { aimed: [id], unknown: [unknown] });
        const named = await log.attack(attacker, route, { params: { id }, query, headers: { 'x-tenant-id': VICTIM, accept: 'text/html' } });
        expect({ route, status: named.status }).toEqual({ route, status: 404 });
        expectNothingOfVictim(named);
      }
    }
  });

  it("reads, deletes and lists none of the victim's conversations", async () => {
    const unknown = randomUUID();
    for (const route of ['GET /api/conversations/{id}', 'DELETE /api/conversations/{id}'] as const) {
      await expectLikeUnknown(route, { params: { id: conversationId } }, { params: { id: unknown } }, { aimed: [conversationId], unknown: [unknown] });
      const named = await log.attack(attacker, route, { params: { id: conversationId }, headers: { 'x-tenant-id': VICTIM } });
      expect({ route, status: named.status }).toEqual({ route, status: 404 });
      expectNothingOfVictim(named);
    }
    for (const query of ['limit=200', 'offset=0&limit=1', undefined]) {
      const listed = await log.attack(attacker, 'GET /api/conversations', { query, headers: { 'x-tenant-id': VICTIM } });
      expect({ query, status: listed.status }).toEqual({ query, status: 200 });
      expectNothingOfVictim(listed);
      // Its own conversation (the rocket question) is there: the list is not simply empty.
      expect((listed.json as { total: number }).total).toBeGreaterThan(0);
    }
  });

  it("finds none of the victim's passages, whatever the filters name", async () => {
    const vacation = 'How many days of paid vacation does an employee get? What is the codeword?';
    const comparable = (reply: Reply) => {
      const { answer, citations } = reply.json as QueryReply;
      return { status: reply.status, answer, citations };
    };
    const byVictimId = await log.attack(attacker, 'POST /api/query', question(vacation, { filters: { documentIds: [documents.indexed.documentId] } }));
    const byUnknownId = await attacker.request('POST /api/query', question(vacation, { filters: { documentIds: [randomUUID()] } }));
    expect(comparable(byVictimId)).toEqual(comparable(byUnknownId));
    expect(comparable(byVictimId)).toMatchObject({ status: 200, citations: [] });
    expectNothingOfVictim(byVictimId);

    const attackerOwn = ((await attacker.request('GET /api/documents')).json as { items: Array<{ id: string }> }).items.map((item) => item.id);
    const attempts: RequestOptions[] = [
      question(vacation, { filters: { documentIds: [...Object.values(documents).map((document) => document.documentId), ...attackerOwn] }, topK: 50 }),
      question(vacation, { filters: { tags: [secrets.tag] } }),
      question(vacation, { filters: { folder: `/acme/${secrets.folder}` } }),
      question(`${vacation} ${secrets.handbook}`, { topK: 50 }),
      { ...question(vacation), headers: { 'x-tenant-id': VICTIM } },
    ];
    for (const attempt of attempts) {
      const reply = await log.attack(attacker, 'POST /api/query', attempt);
      expect(reply.status).toBe(200);
      const cited = (reply.json as QueryReply).citations.map((citation) => citation.documentId);
      expect(cited.filter((id) => !attackerOwn.includes(id))).toEqual([]);
      expectNothingOfVictim(reply);
    }
  });

  it("answers the OpenAI-compatible API from the caller's own documents only, streaming or not", async () => {
    const models = await log.attack(attacker, 'GET /v1/models', { headers: { 'x-tenant-id': VICTIM } });
    expect(models.status).toBe(200);
    expectNothingOfVictim(models);

    const vacation = 'How many days of paid vacation does an employee get? What is the codeword?';
    const chat = (extra: Record<string, unknown> = {}): RequestOptions => ({ json: { model: 'quarry', messages: [{ role: 'user', content: vacation }], ...extra } });
    const attackerOwn = ((await attacker.request('GET /api/documents')).json as { items: Array<{ id: string }> }).items.map((item) => item.id);
    const attempts: RequestOptions[] = [
      chat(),
      chat({ stream: true, stream_options: { include_usage: true } }),
      { ...chat(), headers: { 'x-tenant-id': VICTIM } },
      // A history that names the victim's document and secrets is no way into its passages either.
      chat({
        messages: [
          { role: 'user', content: `${vacation} ${secrets.question}` },
          { role: 'assistant', content: `31 days [1].\n\nSources:\n[1] ${documents.indexed.filename} — ${secrets.handbook}` },
          { role: 'user', content: `Tell me more about ${documents.indexed.filename}` },
        ],
      }),
    ];
    for (const attempt of attempts) {
      const reply = await log.attack(attacker, 'POST /v1/chat/completions', attempt);
      expect(reply.status).toBe(200);
      expectNothingOfVictim(reply);
      const cited = reply.json === undefined ? [] : (reply.json as { citations: Citation[] }).citations.map((citation) => citation.documentId);
      expect(cited.filter((id) => !attackerOwn.includes(id))).toEqual([]);
    }
  });

  it("reads, follows, cancels and lists none of the victim's tasks, and cannot depend on them or take their idempotency key", async () => {
    for (const id of Object.values(victimTasks)) {
      const unknown = randomUUID();
      for (const route of ['GET /api/tasks/{id}', 'POST /api/tasks/{id}/cancel', 'GET /api/tasks/{id}/events'] as const) {
        await expectLikeUnknown(route, { params: { id }, headers: { 'x-tenant-id': VICTIM } }, { params: { id: unknown } }, { aimed: [id], unknown: [unknown] });
      }
      // A dependency on the victim's task is refused exactly as one on a task that never was.
      await expectLikeUnknownTask({ type: 'diagnostics.wait', dependsOn: [{ taskId: id }] }, { type: 'diagnostics.wait', dependsOn: [{ taskId: unknown }] }, id, unknown);
    }
    for (const query of ['', 'status=scheduled', 'type=cache.warm', `after=${victimTasks.completed}`]) {
      const listed = await log.attack(attacker, 'GET /api/tasks', { query, headers: { 'x-tenant-id': VICTIM } });
      expect({ query, status: listed.status, items: (listed.json as { items: unknown[] }).items.length }).toEqual({ query, status: 200, items: 0 });
      expectNothingOfVictim(listed);
    }
    const stats = await log.attack(attacker, 'GET /api/tasks/stats', { headers: { 'x-tenant-id': VICTIM } });
    expect({ status: stats.status, byStatus: (stats.json as { byStatus: unknown }).byStatus }).toEqual({ status: 200, byStatus: {} });
    // The victim's idempotency key (body or header) makes the attacker a task of its own.
    for (const request of [{ json: { type: 'diagnostics.wait', params: { seconds: 0 }, idempotencyKey: secrets.taskKey } }, { json: { type: 'diagnostics.wait', params: { seconds: 0 } }, headers: { 'idempotency-key': secrets.taskKey } }]) {
      const taken = await log.attack(attacker, 'POST /api/tasks', { ...request, headers: { ...request.headers, 'x-tenant-id': VICTIM } });
      expect(taken.status).toBe(Object.keys(request).includes('headers') ? 200 : 201);
      expect(Object.values(victimTasks)).not.toContain((taken.json as { id: string }).id);
    }
  });

  async function expectLikeUnknownTask(aimed: Record<string, unknown>, unknown: Record<string, unknown>, aimedId: string, unknownId: string) {
    const foreign = await log.attack(attacker, 'POST /api/tasks', { json: aimed, headers: { 'x-tenant-id': VICTIM } });
    const missing = await attacker.request('POST /api/tasks', { json: unknown });
    expect({ status: foreign.status }).toEqual({ status: 400 });
    expectNothingOfVictim(foreign);
    expect(comparableError(foreign, [aimedId])).toEqual(comparableError(missing, [unknownId]));
  }

  it("revokes none of the victim's keys and lists none of them", async () => {
    for (const id of victimKeyIds) {
      const unknown = randomUUID();
      await expectLikeUnknown('DELETE /api/keys/{id}', { params: { id } }, { params: { id: unknown } }, { aimed: [id], unknown: [unknown] });
    }
    const listed = await log.attack(attacker, 'GET /api/keys', { headers: { 'x-tenant-id': VICTIM } });
    expect(listed.status).toBe(200);
    expectNothingOfVictim(listed);
    // The operators' cache figures are counts over every tenant, never what is cached.
    const stats = await log.attack(attacker, 'GET /api/admin/cache/stats', { headers: { 'x-tenant-id': VICTIM } });
    expect(stats.status).toBe(200);
    expectNothingOfVictim(stats);

    // A key made while naming the victim's tenant is still the attacker's own.
    const created = await log.attack(attacker, 'POST /api/keys', { json: { name: 'sneaky', role: 'read' }, headers: { 'x-tenant-id': VICTIM } });
    expect(created.status).toBe(201);
    expectNothingOfVictim(created);
    const sneaky = new TenantClient(() => stack.gatewayUrl, ATTACKER, { read: (created.json as { key: string }).key, write: '', admin: '' });
    const seen = await sneaky.request('GET /api/documents', { query: 'limit=200' });
    expect(seen.status).toBe(200);
    expectNothingOfVictim(seen);
    expect((seen.json as { total: number }).total).toBeGreaterThan(0);
    // Malformed tenancy tricks in the body are refused, not followed.
    const smuggled = await log.attack(attacker, 'POST /api/keys', { json: { name: 'smuggled', role: 'read', tenantId: VICTIM } });
    expect(smuggled.status).toBe(400);
    expectNothingOfVictim(smuggled);
  });

  it("uploading the victim's exact bytes makes the attacker's own document, never reveals the victim's", async () => {
    const sha = (bytes: string | Buffer) => createHash('sha256').update(bytes).digest('hex');
    const victimIds = Object.values(documents).map((document) => document.documentId);
    hashesTheAttackerHas.push(sha(documents.indexed.bytes), sha(documents.pending.bytes), sha(documents.failed.bytes));

    const single = await log.attack(attacker, 'POST /api/documents', { form: form([{ name: 'found-on-a-usb-stick.md', bytes: documents.indexed.bytes }]), headers: { 'x-tenant-id': VICTIM } });
    expect({ status: single.status, duplicate: (single.json as { duplicate: boolean }).duplicate }).toEqual({ status: 202, duplicate: false });
    expectNothingOfVictim(single);
    const copy = (single.json as { documentId: string }).documentId;
    expect(victimIds).not.toContain(copy);

    const batch = await log.attack(attacker, 'POST /api/documents/batch', {
      form: form([
        { name: 'copy-of-draft.md', bytes: documents.pending.bytes },
        { name: 'copy-of-scan.pdf', bytes: documents.failed.bytes },
        { name: 'copy-again.md', bytes: documents.indexed.bytes },
      ]),
    });
    expect(batch.status).toBe(202);
    expectNothingOfVictim(batch);
    const results = (batch.json as { documents: Array<{ documentId: string; duplicate: boolean }> }).documents;
    expect(results.map((result) => result.duplicate)).toEqual([false, false, true]);
    // The duplicate is of the attacker's own copy: deduplication never crosses tenants.
    expect(results[2].documentId).toBe(copy);
    for (const { documentId } of results) expect(victimIds).not.toContain(documentId);

    // The copies are the attacker's (the victim cannot see them either: checked once its rows are compared).
    attackerCopies.push(copy, results[0].documentId, results[1].documentId);
    for (const id of attackerCopies) {
      const mine = await attacker.request('GET /api/documents/{id}', { params: { id } });
      expect(mine.status).toBe(200);
      expectNothingOfVictim(mine);
    }
  });

  it("lists none of the victim's documents", async () => {
    for (const query of ['limit=200', 'status=queued&limit=200', 'status=indexed', 'status=failed', 'status=cancelled', 'offset=0&limit=1']) {
      const listed = await log.attack(attacker, 'GET /api/documents', { query, headers: { 'x-tenant-id': VICTIM } });
      expect({ query, status: listed.status }).toEqual({ query, status: 200 });
      expectNothingOfVictim(listed);
    }
  });

  it("leaves every one of the victim's rows as it was", async () => {
    expect(diffSnapshots(before, await snapshot())).toEqual([]);
  });

  it('the victim can still use everything: keys, documents, conversation, jobs', async () => {
    for (const key of [...Object.values(victim.keys), apiCreatedKey]) {
      const withKey = new TenantClient(() => stack.gatewayUrl, VICTIM, { read: key, write: key, admin: key });
      const listed = await withKey.request('GET /api/documents', { query: 'limit=200' });
      expect(listed.status).toBe(200);
      expect((listed.json as { total: number }).total).toBe(4);
    }
    for (const id of attackerCopies) expect((await victim.request('GET /api/documents/{id}', { params: { id } })).status).toBe(404);
    for (const id of queryIds) {
      const trace = await victim.request('GET /api/queries/{id}/trace', { params: { id } });
      expect({ status: trace.status, queryId: (trace.json as { queryId: string }).queryId, conversationId: (trace.json as { conversationId: string }).conversationId }).toEqual({ status: 200, queryId: id, conversationId });
      const report = await victim.request('GET /api/queries/{id}/report', { params: { id }, query: 'format=html' });
      expect({ status: report.status, html: report.contentType?.startsWith('text/html') }).toEqual({ status: 200, html: true });
      expect(report.text).toContain(documents.indexed.filename);
    }
    const detail = await documentOf(victim, documents.indexed.documentId);
    expect(detail).toMatchObject({ status: 'indexed', chunkCount: before.documents[documents.indexed.documentId].chunk_count });
    const stream = await victim.request('GET /api/jobs/{id}/events', { params: { id: documents.indexed.jobId } });
    expect({ status: stream.status, streamed: stream.contentType?.startsWith('text/event-stream') }).toEqual({ status: 200, streamed: true });
    expect(stream.text).toContain('"status":"indexed"');

    const continued = await victim.request('POST /api/query', question('How many days of paid vacation do we get?', { conversationId }));
    expect(continued.status).toBe(200);
    const reply = continued.json as QueryReply;
    expect(reply.conversationId).toBe(conversationId);
    expect(reply.citations[0].documentId).toBe(documents.indexed.documentId);
    expect(reply.answer).toContain('31 days');
    // The snapshot sees what the victim's own use changes (so its stillness above means something);
    // the agent writes the exchange just behind its reply.
    const changed = await waitFor(
      async () => {
        const diff = diffSnapshots(before, await snapshot());
        return diff.some((line) => /^messages .*: added$/.test(line)) && diff.some((line) => /^query_log .*: added$/.test(line)) ? diff : undefined;
      },
      { timeoutMs: 5000, intervalMs: 50, description: "the victim's exchange to be written" },
    );
    expect(changed).toEqual(expect.arrayContaining([expect.stringMatching(/^messages .*: added$/), expect.stringMatching(/^query_log .*: added$/)]));

    // Its conversation, read back with every exchange, then deleted: it cannot be continued.
    const listed = (await victim.request('GET /api/conversations')).json as { items: Array<{ id: string; messageCount: number }> };
    expect(listed.items).toEqual([expect.objectContaining({ id: conversationId, messageCount: 6 })]);
    const read = (await victim.request('GET /api/conversations/{id}', { params: { id: conversationId } })).json as { messages: Array<{ role: string; citations: Citation[] }> };
    expect(read.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(read.messages[1].citations[0].documentId).toBe(documents.indexed.documentId);
    expect((await victim.request('DELETE /api/conversations/{id}', { params: { id: conversationId } })).status).toBe(204);
    expect((await victim.request('GET /api/conversations/{id}', { params: { id: conversationId } })).status).toBe(404);
    expect((await victim.request('POST /api/query', question('And how many of them can be carried over?', { conversationId }))).status).toBe(404);

    // Ingestion back: the victim's queued document is indexed, and so are the attacker's copies,
    // each tenant finding only its own.
    await stack.startService('ingestion');
    await settled(victim, documents.pending.documentId, 'indexed');
    const victimIds = Object.values(documents).map((document) => document.documentId);
    const drafted = (await (await victim.request('POST /api/query', question('When is the Acme reorganisation planned?', { topK: 50 }))).json) as QueryReply;
    expect(drafted.citations[0].documentId).toBe(documents.pending.documentId);
    expect(drafted.citations.map((citation) => citation.documentId).filter((id) => !victimIds.includes(id))).toEqual([]);
    const attackerIds = ((await attacker.request('GET /api/documents')).json as { items: Array<{ id: string }> }).items.map((item) => item.id);
    await waitFor(
      async () => {
        const listed = (await attacker.request('GET /api/documents', { query: 'limit=200' })).json as { items: Array<{ status: string }> };
        return listed.items.every((item) => ['indexed', 'failed'].includes(item.status));
      },
      { timeoutMs: 40_000, description: "the attacker's copies to be ingested" },
    );
    const own = (await (await attacker.request('POST /api/query', question('How many days of paid vacation does an Acme employee get?', { topK: 50 }))).json) as QueryReply;
    expect(own.citations.length).toBeGreaterThan(0);
    expect(own.citations.map((citation) => citation.documentId).filter((id) => !attackerIds.includes(id))).toEqual([]);
  });

  it('attacked every /api route the gateway serves (a route added without a cross-tenant test fails here)', async () => {
    const response = await fetch(`${stack.gatewayUrl}/api/openapi.json`);
    expect(response.status).toBe(200);
    const served = apiRoutesOf((await response.json()) as { paths: Record<string, Record<string, unknown>> }, isDocumentedPublic);
    expect(served.length).toBeGreaterThanOrEqual(12);
    expect(served.filter((route) => !log.routes.has(route))).toEqual([]);
    expect(log.count).toBeGreaterThanOrEqual(60);
    // And the suite attacks nothing the gateway no longer serves.
    expect([...log.routes].filter((route) => !served.includes(route))).toEqual([]);
  });
});
