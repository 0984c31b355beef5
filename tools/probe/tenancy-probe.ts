/**
 * `npm run probe:tenancy [-- --requests 10000 --concurrency 16 --tenants 4 --seed N]` — tries to
 * cross the tenant wall many thousand times. The five services run as processes on a Postgres
 * schema and Redis prefix of their own; N tenants are seeded with documents in every state (indexed,
 * failed, queued, cancelled), jobs, conversations and keys, every piece carrying a marker word of its
 * tenant. Then a randomized mix of requests goes out: a tenant's key against another tenant's ids on
 * every /api route (reads, deletes, cancels, event streams opened and closed, questions continuing
 * foreign conversations or filtering on foreign documents, key revocations, uploads of foreign
 * bytes, listings), half of them naming the victim in an `x-tenant-id` header, and a share of
 * requests on the sender's own data as controls, which must succeed.
 *
 * A hit is an attack answered with anything but an unknown-id answer, any answer carrying another
 * tenant's marker, id or name, or any row of a tenant changed by someone else (each tenant's rows
 * are compared before and after; its own requests account for every new row). Exit 1 on any hit,
 * failed control, or /api route the probe does not attack.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type ServiceStack, SnapshotReader, type StackKeyRole, startIsolatedStack, waitFor } from '@quarry/testing';
import { mapBounded } from '../cli/map-bounded';
import { type Exchange, type TenantSecrets, judgeAttack, judgeControl } from './hit-detector';
import { type AttackKind, type ControlKind, type PlannedRequest, type RouteKey, parseProbeArgs, planRequests, seededRandom, unprobedRoutes } from './probe-plan';
import { type SeededDocument, type SeededState, type TenantWorld, corruptPdf, markedDocument, newWorld, sha256Of } from './probe-world';
import { type TenantSnapshot, auditTenantRows, identifyingStrings } from './row-ledger';

const isDocumentedPublic = (path: string) => path === '/api/openapi.json' || path === '/api/docs' || path.startsWith('/api/docs/');

interface Sent {
  route: RouteKey;
  params?: Record<string, string>;
  query?: string;
  json?: unknown;
  files?: Array<{ name: string; bytes: Buffer }>;
  headers?: Record<string, string>;
  role: StackKeyRole;
}

class Probe {
  readonly worlds: TenantWorld[];
  /** route → "attack|control" → status → count */
  readonly tally = new Map<RouteKey, { attack: Map<number, number>; control: Map<number, number> }>();
  readonly hits: string[] = [];
  readonly controlFailures: string[] = [];
  /** The first answer of each control kind, to prove at the end that the detector would see it reach another tenant. */
  readonly samples = new Map<ControlKind, Exchange>();
  controlsOk = 0;
  controls = 0;
  attacks = 0;
  requests = 0;

  constructor(
    private readonly stack: ServiceStack,
    tenants: number,
  ) {
    this.worlds = Array.from({ length: tenants }, (_, index) => newWorld(index));
  }

  private get secrets(): TenantSecrets[] {
    return this.worlds.map((world) => world.secrets as TenantSecrets);
  }

  /** Sends one request as the tenant; a progress stream is read to its first event and closed, a streamed answer to its end. */
  async send(world: TenantWorld, request: Sent): Promise<Exchange> {
    const [method, template] = request.route.split(' ');
    const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(request.params?.[name] ?? ''));
    const url = `${path}${request.query ? `?${request.query}` : ''}`;
    const headers: Record<string, string> = { authorization: `Bearer ${world.keys[request.role]}`, ...request.headers };
    let body: string | FormData | undefined;
    if (request.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.json);
    } else if (request.files) {
      body = new FormData();
      for (const file of request.files) body.append('file', new Blob([new Uint8Array(file.bytes)]), file.name);
    }
    const controller = new AbortController();
    this.requests++;
    const response = await fetch(`${this.stack.gatewayUrl}${url}`, { method, headers, body, signal: controller.signal });
    let text = '';
    if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      // A streamed answer (POST) is read to its end: all of it is judged. A progress stream: its first event.
      const toTheEnd = method === 'POST';
      const deadline = Date.now() + (toTheEnd ? 30_000 : 5000);
      while ((toTheEnd || !text.includes('\n\n')) && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
      controller.abort();
    } else {
      text = await response.text();
    }
    return { actor: world.id, status: response.status, body: text, sent: `${url} ${typeof body === 'string' ? body : ''}`, held: [...world.held] };
  }

  private count(route: RouteKey, side: 'attack' | 'control', status: number): void {
    let entry = this.tally.get(route);
    if (!entry) this.tally.set(route, (entry = { attack: new Map(), control: new Map() }));
    entry[side].set(status, (entry[side].get(status) ?? 0) + 1);
  }

  // ---- seeding ----------------------------------------------------------------------------

  async seed(): Promise<void> {
    // Keys as an operator makes them (the CLI), two tenants at a time (each is a Node process).
    await mapBounded(this.worlds, 2, async (world) => {
      for (const role of ['read', 'write', 'admin'] as const) world.keys[role] = await this.stack.createApiKey(world.id, role, { name: `${role} key ${world.marker}` });
    });
    await Promise.all(this.worlds.map((world) => this.seedLive(world)));
    // Without ingestion, uploads stay queued: jobs another tenant could cancel, if it could.
    await this.stack.stopService('ingestion');
    await Promise.all(this.worlds.map((world) => this.seedWaiting(world)));
  }

  private async upload(world: TenantWorld, filename: string, bytes: Buffer, state: SeededState): Promise<SeededDocument> {
    const reply = await this.send(world, { route: 'POST /api/documents', files: [{ name: filename, bytes }], role: 'write' });
    if (reply.status !== 202) throw new Error(`seeding ${world.id}: upload of ${filename} answered ${reply.status} ${reply.body}`);
    const { documentId, jobId } = JSON.parse(reply.body) as { documentId: string; jobId: string };
    const document = { id: documentId, jobId, filename, bytes, sha256: sha256Of(bytes), state };
    world.documents.push(document);
    world.ownDocuments.add(documentId);
    return document;
  }

  private async statusOf(world: TenantWorld, id: string): Promise<string> {
    const reply = await this.send(world, { route: 'GET /api/documents/{id}', params: { id }, role: 'read' });
    return (JSON.parse(reply.body) as { status: string }).status;
  }

  private async ask(world: TenantWorld, question: string, extra: Record<string, unknown> = {}): Promise<{ conversationId: string; citations: unknown[] }> {
    const reply = await this.send(world, { route: 'POST /api/query', json: { question, ...extra }, role: 'read' });
    if (reply.status !== 200) throw new Error(`seeding ${world.id}: question answered ${reply.status} ${reply.body}`);
    const answer = JSON.parse(reply.body) as { conversationId: string; citations: unknown[]; queryId?: string };
    if (answer.queryId) world.queries.push(answer.queryId);
    return answer;
  }

  private async seedLive(world: TenantWorld): Promise<void> {
    const { marker } = world;
    const live = [
      await this.upload(world, `handbook-${marker}.md`, markedDocument(world, 'handbook'), 'indexed'),
      await this.upload(world, `policy-${marker}.md`, markedDocument(world, 'travel policy'), 'indexed'),
      await this.upload(world, `scan-${marker}.pdf`, corruptPdf(world), 'failed'),
    ];
    for (const document of live) {
      await waitFor(async () => ['indexed', 'failed'].includes(await this.statusOf(world, document.id)), {
        timeoutMs: 60_000,
        intervalMs: 200,
        description: `${world.id}'s ${document.filename} to be ingested`,
      });
      const status = await this.statusOf(world, document.id);
      if (status !== document.state) throw new Error(`seeding ${world.id}: ${document.filename} is ${status}, not ${document.state}`);
    }
    for (const topic of ['the vault code', 'paid vacation']) {
      const first = await this.ask(world, `What does the handbook say about ${topic}? ${marker}`);
      await this.ask(world, `And who reviews it? ${marker}`, { conversationId: first.conversationId });
      world.conversations.push(first.conversationId);
    }
    world.controlConversation = (await this.ask(world, `Which committee reviews the travel policy? ${marker}`)).conversationId;
    world.conversations.push(world.controlConversation);
    for (let decoy = 1; decoy <= 3; decoy++) {
      const reply = await this.send(world, { route: 'POST /api/keys', json: { name: `decoy ${decoy} ${marker}`, role: 'read' }, role: 'admin' });
      if (reply.status !== 201) throw new Error(`seeding ${world.id}: key creation answered ${reply.status}`);
    }
    const keys = await this.send(world, { route: 'GET /api/keys', role: 'admin' });
    world.keyIds = (JSON.parse(keys.body) as { items: Array<{ id: string }> }).items.map((key) => key.id);
    for (const task of [
      { type: 'diagnostics.wait', params: { seconds: 0 } },
      { type: 'retention.purge', runAt: new Date(Date.now() + 24 * 3600_000).toISOString() },
    ]) {
      const reply = await this.send(world, { route: 'POST /api/tasks', json: { ...task, metadata: { label: `seeded ${marker}` } }, role: 'write' });
      if (reply.status !== 201) throw new Error(`seeding ${world.id}: task submission answered ${reply.status}`);
      world.tasks.push((JSON.parse(reply.body) as { id: string }).id);
    }
    await waitFor(async () => (JSON.parse((await this.send(world, { route: 'GET /api/tasks/{id}', params: { id: world.tasks[0] }, role: 'read' })).body) as { status: string }).status === 'completed', {
      timeoutMs: 30_000,
      intervalMs: 200,
      description: `${world.id}'s seeded task to complete`,
    });
  }

  private async seedWaiting(world: TenantWorld): Promise<void> {
    await this.upload(world, `draft-${world.marker}.md`, markedDocument(world, 'draft budget'), 'queued');
    await this.upload(world, `minutes-${world.marker}.md`, markedDocument(world, 'board minutes'), 'queued');
    const memo = await this.upload(world, `memo-${world.marker}.md`, markedDocument(world, 'picnic memo'), 'cancelled');
    const cancelled = await this.send(world, { route: 'POST /api/jobs/{id}/cancel', params: { id: memo.jobId }, role: 'write' });
    if (cancelled.status !== 202) throw new Error(`seeding ${world.id}: cancel answered ${cancelled.status}`);
  }

  /** Each tenant's rows once they have settled, and the strings that identify them. */
  async snapshotAll(reader: SnapshotReader): Promise<TenantSnapshot[]> {
    let previous: string | undefined;
    return waitFor(
      async () => {
        const snapshots: TenantSnapshot[] = [];
        for (const world of this.worlds) snapshots.push(await reader.snapshot(world.id));
        const text = JSON.stringify(snapshots);
        const same = text === previous;
        previous = text;
        return same ? snapshots : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, description: 'the tenants’ rows to settle' },
    );
  }

  // ---- the run ----------------------------------------------------------------------------

  private pick<T>(items: readonly T[], pick: number): T {
    return items[pick % items.length];
  }

  async execute(request: PlannedRequest): Promise<void> {
    const actor = this.worlds[request.actor];
    const target = this.worlds[request.target];
    try {
      if (request.control) await this.control(request.kind, actor, request.pick);
      else await this.attack(request.kind, actor, target, request.nameTarget, request.pick);
    } catch (error) {
      const message = `${request.control ? 'control' : 'attack'} ${request.kind} by ${actor.id}: ${(error as Error).message}`;
      if (request.control) this.controlFailures.push(message);
      else this.hits.push(`${message} (the request itself failed)`);
    }
  }

  private async attack(kind: AttackKind, actor: TenantWorld, target: TenantWorld, nameTarget: boolean, pick: number): Promise<void> {
    const headers = nameTarget || kind === 'create-key' ? { 'x-tenant-id': target.id } : undefined;
    const anyRole = this.pick<StackKeyRole>(['read', 'write', 'admin'], pick >> 3);
    const writer = this.pick<StackKeyRole>(['write', 'admin'], pick >> 3);
    const document = this.pick(target.documents, pick);
    let sent: Sent;
    switch (kind) {
      case 'get-document':
        sent = { route: 'GET /api/documents/{id}', params: { id: document.id }, role: anyRole };
        break;
      case 'delete-document':
        sent = { route: 'DELETE /api/documents/{id}', params: { id: document.id }, role: writer };
        break;
      case 'get-job':
        sent = { route: 'GET /api/jobs/{id}', params: { id: document.jobId }, role: anyRole };
        break;
      case 'job-events':
        sent = { route: 'GET /api/jobs/{id}/events', params: { id: document.jobId }, role: anyRole };
        break;
      case 'cancel-job':
        sent = { route: 'POST /api/jobs/{id}/cancel', params: { id: document.jobId }, role: writer };
        break;
      case 'revoke-key':
        sent = { route: 'DELETE /api/keys/{id}', params: { id: this.pick(target.keyIds, pick) }, role: 'admin' };
        break;
      case 'list-documents':
        sent = { route: 'GET /api/documents', query: this.pick(['limit=200', 'status=queued&limit=200', 'status=indexed', 'status=cancelled', 'offset=1&limit=2'], pick >> 2), role: anyRole };
        break;
      case 'list-keys':
        sent = { route: 'GET /api/keys', role: 'admin' };
        break;
      case 'cache-stats':
        // Counts over every tenant, never content: no other tenant's marker may appear.
        sent = { route: 'GET /api/admin/cache/stats', role: 'admin' };
        break;
      case 'query-conversation':
        sent = { route: 'POST /api/query', json: { question: `What did we discuss? ${actor.marker}`, conversationId: this.pick(target.conversations, pick) }, role: anyRole };
        break;
      case 'query-openai':
        // The OpenAI-compatible API, whole or streamed: only the actor's documents may be cited or quoted.
        sent = {
          route: 'POST /v1/chat/completions',
          json: { model: 'quarry', messages: [{ role: 'user', content: `What is the vault code? ${actor.marker}` }], stream: pick % 2 === 0 },
          headers,
          role: anyRole,
        };
        break;
      case 'openai-models':
        sent = { route: 'GET /v1/models', headers, role: anyRole };
        break;
      case 'query-documents': {
        // Foreign documents alone, or mixed with the actor's own: only the actor's may be cited.
        const foreign = [document.id, this.pick(target.documents, pick >> 4).id];
        const own = pick % 3 === 0 ? [this.pick(actor.documents, pick >> 5).id] : [];
        sent = { route: 'POST /api/query', json: { question: `What is the vault code? ${actor.marker}`, filters: { documentIds: [...foreign, ...own] } }, role: anyRole };
        break;
      }
      case 'upload':
        actor.held.add(document.sha256);
        sent = { route: 'POST /api/documents', files: [{ name: `copy-${actor.marker}.md`, bytes: document.bytes }], role: writer };
        break;
      case 'upload-batch': {
        const second = this.pick(target.documents, pick >> 4);
        actor.held.add(document.sha256).add(second.sha256);
        sent = {
          route: 'POST /api/documents/batch',
          files: [
            { name: `batch-a-${actor.marker}.md`, bytes: document.bytes },
            { name: `batch-b-${actor.marker}.md`, bytes: second.bytes },
          ],
          role: writer,
        };
        break;
      }
      case 'create-key':
        sent = { route: 'POST /api/keys', json: { name: `made ${actor.marker}`, role: 'read' }, role: 'admin' };
        break;
      case 'list-conversations':
        // The actor's own conversations only: no other tenant's id or title may appear.
        sent = { route: 'GET /api/conversations', query: this.pick(['limit=200', 'offset=1&limit=2', ''], pick >> 2) || undefined, role: anyRole };
        break;
      case 'get-conversation':
        sent = { route: 'GET /api/conversations/{id}', params: { id: this.pick(target.conversations, pick) }, role: anyRole };
        break;
      case 'delete-conversation':
        sent = { route: 'DELETE /api/conversations/{id}', params: { id: this.pick(target.conversations, pick) }, role: writer };
        break;
      case 'get-task':
        sent = { route: 'GET /api/tasks/{id}', params: { id: this.pick(target.tasks, pick) }, role: anyRole };
        break;
      case 'cancel-task':
        sent = { route: 'POST /api/tasks/{id}/cancel', params: { id: this.pick(target.tasks, pick) }, role: writer };
        break;
      case 'task-events':
        sent = { route: 'GET /api/tasks/{id}/events', params: { id: this.pick(target.tasks, pick) }, role: anyRole };
        break;
      case 'list-tasks':
        sent = { route: 'GET /api/tasks', query: this.pick(['limit=200', 'status=scheduled', 'type=retention.purge', ''], pick >> 2) || undefined, role: anyRole };
        break;
      case 'task-stats':
        sent = { route: 'GET /api/tasks/stats', role: anyRole };
        break;
      case 'submit-task':
        sent = { route: 'POST /api/tasks', json: { type: 'diagnostics.wait', params: { seconds: 0 }, dependsOn: [{ taskId: this.pick(target.tasks, pick) }] }, role: writer };
        break;
      // Operator views: the actor's own tenant's figures (its questions carry only its own marker),
      // or counts over the installation — no other tenant's question, document or name may show.
      case 'analytics-queries':
        sent = { route: 'GET /api/analytics/queries', query: this.pick(['days=365&top=100', 'days=1', ''], pick >> 2) || undefined, role: 'admin' };
        break;
      case 'analytics-documents':
        sent = { route: 'GET /api/analytics/documents', query: this.pick(['days=365&limit=100', 'limit=1', ''], pick >> 2) || undefined, role: 'admin' };
        break;
      case 'analytics-system':
        sent = { route: 'GET /api/analytics/system', role: 'admin' };
        break;
      case 'system-alerts':
        sent = { route: 'GET /api/system/alerts', query: this.pick(['state=all&limit=500', ''], pick >> 2) || undefined, role: 'admin' };
        break;
      case 'get-query-trace':
      case 'get-query-report': {
        // The target's own query ids (an unknown one if its replies named none).
        const id = target.queries.length > 0 ? this.pick(target.queries, pick) : randomUUID();
        sent =
          kind === 'get-query-trace'
            ? { route: 'GET /api/queries/{id}/trace', params: { id }, role: anyRole }
            : { route: 'GET /api/queries/{id}/report', params: { id }, query: this.pick(['format=html', 'format=markdown', ''], pick >> 2) || undefined, role: anyRole };
        break;
      }
    }
    const exchange = await this.send(actor, { ...sent, headers });
    this.attacks++;
    this.count(sent.route, 'attack', exchange.status);
    const reasons = judgeAttack(kind, exchange, this.secrets, actor.ownDocuments);
    if (reasons.length > 0) this.hits.push(`${sent.route} ${kind} by ${actor.id} on ${target.id}: ${reasons.join('; ')} — ${exchange.body.slice(0, 300)}`);
    this.account(kind, actor, exchange, false);
  }

  private async control(kind: ControlKind, actor: TenantWorld, pick: number): Promise<void> {
    const document = this.pick(actor.documents, pick);
    const indexed = actor.documents.filter((item) => item.state === 'indexed');
    const anyRole = this.pick<StackKeyRole>(['read', 'write', 'admin'], pick >> 3);
    const run = async (sent: Sent, expected: string[], as: ControlKind = kind): Promise<Exchange> => {
      const exchange = await this.send(actor, sent);
      this.count(sent.route, 'control', exchange.status);
      if (!this.samples.has(as)) this.samples.set(as, exchange);
      const failure = judgeControl(as, exchange, this.secrets, expected);
      if (failure) throw new Error(`${sent.route}: ${failure}`);
      return exchange;
    };
    this.controls++;
    switch (kind) {
      case 'get-document':
        await run({ route: 'GET /api/documents/{id}', params: { id: document.id }, role: anyRole }, [document.filename]);
        break;
      case 'get-job':
        await run({ route: 'GET /api/jobs/{id}', params: { id: document.jobId }, role: anyRole }, [`"status":"${document.state}"`]);
        break;
      case 'job-events':
        await run({ route: 'GET /api/jobs/{id}/events', params: { id: document.jobId }, role: anyRole }, [`"id":"${document.jobId}"`]);
        break;
      case 'list-documents':
        await run({ route: 'GET /api/documents', query: 'limit=200', role: anyRole }, [`handbook-${actor.marker}.md`]);
        break;
      case 'list-keys':
        await run({ route: 'GET /api/keys', role: 'admin' }, [`decoy 1 ${actor.marker}`]);
        break;
      case 'query-documents': {
        const exchange = await run(
          { route: 'POST /api/query', json: { question: `What is the vault code of this company? ${actor.marker}`, filters: { documentIds: indexed.map((item) => item.id) } }, role: anyRole },
          [`vault code of this company is ${actor.marker}`],
        );
        this.account('query-documents', actor, exchange, true);
        break;
      }
      case 'query-conversation': {
        const exchange = await run(
          { route: 'POST /api/query', json: { question: `How many days of paid vacation? ${actor.marker}`, conversationId: actor.controlConversation }, role: anyRole },
          [actor.controlConversation],
        );
        this.account('query-conversation', actor, exchange, true);
        break;
      }
      case 'list-conversations':
        await run({ route: 'GET /api/conversations', query: 'limit=200', role: anyRole }, [actor.controlConversation, actor.marker]);
        break;
      case 'get-conversation':
        await run({ route: 'GET /api/conversations/{id}', params: { id: actor.controlConversation }, role: anyRole }, [actor.marker]);
        break;
      case 'get-task':
        await run({ route: 'GET /api/tasks/{id}', params: { id: this.pick(actor.tasks, pick) }, role: anyRole }, [actor.marker]);
        break;
      case 'list-tasks':
        await run({ route: 'GET /api/tasks', query: 'limit=200', role: anyRole }, [...actor.tasks, actor.marker]);
        break;
      case 'analytics-queries':
        // Its seeded questions carry its marker, so its own most asked questions show it.
        await run({ route: 'GET /api/analytics/queries', query: 'days=365&top=100', role: 'admin' }, [actor.marker]);
        break;
      case 'key-cycle': {
        const created = await run({ route: 'POST /api/keys', json: { name: `cycled ${actor.marker}`, role: 'read' }, role: 'admin' }, [`cycled ${actor.marker}`]);
        actor.writes.api_keys++;
        const { id } = JSON.parse(created.body) as { id: string };
        await run({ route: 'DELETE /api/keys/{id}', params: { id }, role: 'admin' }, []);
        break;
      }
    }
    this.controlsOk++;
  }

  /** The rows a tenant's own successful request added, so the audit can tell them from anyone else's. */
  private account(kind: AttackKind | ControlKind, actor: TenantWorld, exchange: Exchange, control: boolean): void {
    const ok = exchange.status >= 200 && exchange.status < 300;
    if (!ok) return;
    if (kind === 'query-documents' || kind === 'query-conversation' || kind === 'query-openai') {
      actor.writes.messages += 2;
      actor.writes.query_log++;
      // An OpenAI-compatible completion starts a conversation of its own, as a question without conversationId does.
      if (kind === 'query-documents' || kind === 'query-openai') actor.writes.conversations++;
      else if (control) actor.writes.continuations++;
    } else if (kind === 'upload' || kind === 'upload-batch') {
      const reply = JSON.parse(exchange.body) as { documentId?: string; duplicate?: boolean; documents?: Array<{ documentId?: string; duplicate?: boolean }> };
      for (const result of kind === 'upload' ? [reply] : (reply.documents ?? [])) {
        if (!result.documentId) continue;
        actor.ownDocuments.add(result.documentId);
        if (!result.duplicate) {
          actor.writes.documents++;
          actor.writes.document_contents++;
        }
      }
    } else if (kind === 'create-key') {
      actor.writes.api_keys++;
    }
  }

  // ---- the end ----------------------------------------------------------------------------

  /** Problems in every tenant's rows; `unaccounted` audits as if the tenants' own requests had written nothing (the audit's own check). */
  audit(after: TenantSnapshot[], unaccounted = false): string[] {
    return this.worlds.flatMap((world, index) => {
      const writes = unaccounted ? { ...newWorld(0).writes } : world.writes;
      const foreign = this.worlds.filter((other) => other !== world).flatMap((other) => other.secrets?.strings ?? []);
      return auditTenantRows(
        world.before as TenantSnapshot,
        after[index],
        {
          documents: writes.documents,
          document_contents: writes.document_contents,
          api_keys: writes.api_keys,
          conversations: writes.conversations,
          messages: writes.messages,
          query_log: writes.query_log,
          // Every answered question has its audit trail.
          query_traces: writes.query_log,
        },
        {
          mutableColumns: ['api_keys.last_used_at'],
          mutableRows: { [`conversations/${world.controlConversation}`]: ['updated_at'] },
          newMessagesIn: { [world.controlConversation]: 2 * writes.continuations },
          scannedTables: ['conversations', 'messages', 'query_log', 'query_traces', 'api_keys'],
          foreignSecrets: foreign,
        },
      ).map((problem) => `${world.id}: ${problem}`);
    });
  }

  /**
   * The detector is not blind: each control kind's real answer, judged as if another tenant had
   * received it, is a hit (by its status, its content or its citations). Returns the kinds it missed.
   */
  blindSpots(): { checked: number; missed: string[] } {
    const missed: string[] = [];
    let checked = 0;
    for (const [kind, exchange] of this.samples) {
      if (kind === 'key-cycle') continue;
      const other = this.worlds.find((world) => world.id !== exchange.actor) as TenantWorld;
      checked++;
      if (judgeAttack(kind, { ...exchange, actor: other.id, held: [] }, this.secrets, other.ownDocuments).length === 0) missed.push(kind);
    }
    return { checked, missed };
  }

  summary(): string[] {
    const lines = ['route                              attacks (status×count)                 controls (status×count)'];
    const format = (counts: Map<number, number>) =>
      [...counts.entries()]
        .sort(([a], [b]) => a - b)
        .map(([status, count]) => `${status}×${count}`)
        .join(' ') || '-';
    for (const [route, { attack, control }] of [...this.tally.entries()].sort(([a], [b]) => a.localeCompare(b))) {
      lines.push(`${route.padEnd(34)} ${format(attack).padEnd(38)} ${format(control)}`);
    }
    return lines;
  }
}

async function main(): Promise<void> {
  const args = parseProbeArgs(process.argv.slice(2), randomBytes(4).readUInt32BE(0));
  console.log(`tenancy probe: ${args.requests} requests, concurrency ${args.concurrency}, ${args.tenants} tenants, seed ${args.seed}`);
  const started = Date.now();
  // The probe sends a few hundred requests a second on a dozen keys: the rate limit is turned off
  // (it is not what is probed, and a 429 would stand in front of the tenant check).
  const { stack, schema, stop } = await startIsolatedStack('probe', { LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '0' });
  const reader = new SnapshotReader(schema.url, schema.schema);
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await reader.close().catch(() => undefined);
    await stop();
    await rm(dirname(stack.bootstrapKeyFile), { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().finally(() => process.exit(130)));
  let failed = true;
  try {
    await reader.open();
    const openapi = (await (await fetch(`${stack.gatewayUrl}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const unprobed = unprobedRoutes(openapi.paths, isDocumentedPublic);

    const probe = new Probe(stack, args.tenants);
    await probe.seed();
    const before = await probe.snapshotAll(reader);
    probe.worlds.forEach((world, index) => {
      world.before = before[index];
      world.secrets = { tenantId: world.id, strings: [world.id, world.marker, ...identifyingStrings(before[index])] };
    });
    const seeded = probe.requests;
    const secretsPerTenant = Math.round(probe.worlds.reduce((total, world) => total + (world.secrets?.strings.length ?? 0), 0) / probe.worlds.length);
    console.log(`seeded in ${((Date.now() - started) / 1000).toFixed(1)} s: per tenant ${probe.worlds[0].documents.length} documents (indexed, failed, queued, cancelled), ${probe.worlds[0].conversations.length} conversations, ${probe.worlds[0].keyIds.length} keys; ${secretsPerTenant} secrets per tenant watched for`);

    const plan = planRequests(args.requests, args.tenants, seededRandom(args.seed));
    const runStarted = performance.now();
    await mapBounded(plan, args.concurrency, (request) => probe.execute(request));
    const seconds = (performance.now() - runStarted) / 1000;
    const sent = probe.requests - seeded;

    const after = await probe.snapshotAll(reader);
    const problems = probe.audit(after);
    // Both checks must be able to fail: the detector sees real answers reaching the wrong tenant,
    // and the row audit sees the rows the tenants' own controls wrote when they are not accounted for.
    const blind = probe.blindSpots();
    const auditSees = probe.audit(after, true).length > 0;
    console.log('');
    for (const line of probe.summary()) console.log(line);
    console.log('');
    console.log(`requests: ${sent} in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)} requests/s) — ${probe.attacks} attacks, ${probe.controls} controls`);
    console.log(`controls ok: ${probe.controlsOk}/${probe.controls}`);
    console.log(`hits: ${probe.hits.length + problems.length} (${probe.hits.length} in answers, ${problems.length} in the rows of ${args.tenants} tenants)`);
    for (const line of [...probe.hits, ...problems].slice(0, 30)) console.log(`  HIT ${line}`);
    for (const line of probe.controlFailures.slice(0, 20)) console.log(`  CONTROL FAILED ${line}`);
    console.log(`self-checks: the detector flags ${blind.checked - blind.missed.length}/${blind.checked} control answers replayed to another tenant${blind.missed.length ? ` (blind to ${blind.missed.join(', ')})` : ''}; the row audit ${auditSees ? 'flags' : 'DOES NOT flag'} unaccounted own writes`);
    if (unprobed.length > 0) console.log(`routes the probe does not attack: ${unprobed.join(', ')}`);
    console.log(`total ${((Date.now() - started) / 1000).toFixed(1)} s; seed ${args.seed}`);
    failed =
      probe.hits.length + problems.length > 0 || probe.controlFailures.length > 0 || probe.controlsOk === 0 || unprobed.length > 0 || blind.missed.length > 0 || blind.checked === 0 || !auditSees;
  } finally {
    await cleanup();
  }
  process.exit(failed ? 1 : 0);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
