import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  OtlpReceiver,
  PrivatePrometheus,
  ServiceStack,
  SERVICE_NAMES,
  createTestRedisPrefix,
  createTestSchema,
  repoRoot,
  startFakeOpenAiServer,
  waitFor,
  type FakeOpenAiServer,
  type TestRedisPrefix,
  type TestSchema,
} from '@quarry/testing';
import { join } from 'node:path';

// Operating Quarry as an operator does: the five services traced into an OTLP receiver and scraped
// by Debian's real Prometheus, through an agent outage and an ingestion outage.
jest.setTimeout(240_000);

const SCRAPE_SECONDS = 1;
const HANDBOOK = '# Handbook\n\nEvery employee receives 27 days of paid vacation per calendar year.\n\nLaptops are replaced every three years.\n';
const BACKLOG_DOCUMENTS = 300;

interface LogLine {
  message?: string;
  correlationId?: string;
  tenantId?: string;
  trace_id?: string;
  span_id?: string;
}

describe('Operations: traces, metrics and dashboards against the real thing', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let stack: ServiceStack;
  let receiver: OtlpReceiver;
  let prometheus: PrivatePrometheus;
  let model: FakeOpenAiServer;
  let key: Record<string, string>;
  const lines = new Map<string, LogLine[]>();
  const modelEnv = () => ({ LLM_BASE_URL: model.baseUrl, LLM_MODEL: 'fake-chat', AGENT_JUDGEMENTS: 'local', AGENT_MAX_REFINEMENTS: '0' });

  const api = (path: string, init: RequestInit = {}) => fetch(`${stack.gatewayUrl}${path}`, { ...init, headers: { ...key, ...(init.headers as Record<string, string> | undefined) } });
  const ask = (question: string) => api('/api/query', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ question }) });
  const upload = async (filename: string, content: string) => {
    const form = new FormData();
    form.append('file', new Blob([content], { type: 'text/plain' }), filename);
    const response = await api('/api/documents', { method: 'POST', body: form });
    expect(response.status).toBe(202);
    return ((await response.json()) as { documentId: string }).documentId;
  };

  beforeAll(async () => {
    receiver = await OtlpReceiver.start();
    model = await startFakeOpenAiServer({ reply: 'Employees receive 27 days of paid vacation per year [1].' });
    schema = await createTestSchema('ops');
    redis = createTestRedisPrefix('ops');
    stack = new ServiceStack({
      databaseUrl: schema.url,
      databaseSchema: schema.schema,
      redisUrl: redis.url,
      redisPrefix: redis.prefix,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
        // The receiver reads JSON; the default, http/protobuf, is what collectors usually get.
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        // Spans leave within a fifth of a second instead of the SDK's five.
        OTEL_BSP_SCHEDULE_DELAY: '200',
        // 300 uploads in a few seconds are this test's traffic, not abuse.
        RATE_LIMIT_PER_MINUTE: '0',
        RATE_LIMIT_BURST: '0',
      },
      onOutput: (service, line) => {
        if (!line.startsWith('{')) return;
        const list = lines.get(service) ?? [];
        list.push(JSON.parse(line) as LogLine);
        lines.set(service, list);
      },
    });
    await stack.start();
    await stack.stopService('agent');
    await stack.startService('agent', modelEnv());
    prometheus = await PrivatePrometheus.start(
      SERVICE_NAMES.map((service) => `127.0.0.1:${stack.ports.get(service)}`),
      { scrapeIntervalSeconds: SCRAPE_SECONDS },
    );
    const adminKey = (await readFile(stack.bootstrapKeyFile, 'utf8')).trim();
    key = { authorization: `Bearer ${adminKey}` };
    const handbook = await upload('handbook.md', HANDBOOK);
    await waitFor(async () => ((await (await api(`/api/documents/${handbook}`)).json()) as { status: string }).status === 'indexed', {
      timeoutMs: 60_000,
      description: 'the handbook to be indexed',
    });
    // rate() needs two samples of a series: let every target be scraped a few times first.
    await waitFor(async () => (await prometheus.value('count(count_over_time(up{job="quarry"}[1m]) >= 5)')) === SERVICE_NAMES.length, {
      timeoutMs: 30_000,
      description: 'Prometheus to scrape all five services five times',
    });
  });

  afterAll(async () => {
    await prometheus?.stop();
    await stack?.stop();
    await receiver?.close();
    await model?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  it('one query is one trace across gateway, agent and retrieval, with its ids on the log lines', async () => {
    const response = await ask('How many days of paid vacation does an employee get?');
    expect(response.status).toBe(200);
    const correlationId = response.headers.get('x-correlation-id') as string;
    const root = await waitFor(() => receiver.spans.find((span) => span.attributes['quarry.correlation_id'] === correlationId), {
      timeoutMs: 15_000,
      description: 'the gateway span of the query',
    });
    expect(root).toMatchObject({ service: 'quarry-gateway', name: 'POST /api/query' });
    const spans = await waitFor(
      () => {
        const trace = receiver.trace(root.traceId);
        const services = new Set(trace.map((span) => span.service));
        return ['quarry-gateway', 'quarry-agent', 'quarry-retrieval'].every((service) => services.has(service)) && trace.some((span) => span.name.startsWith('chat ')) ? trace : undefined;
      },
      { timeoutMs: 15_000, description: 'spans of the gateway, the agent and the retrieval service in one trace' },
    );
    // Every queue hop continues the trace: the agent's job span is a child of a gateway span, retrieval's of an agent span.
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const parentService = (service: string, name: RegExp) =>
      spans.filter((span) => span.service === service && name.test(span.name)).map((span) => byId.get(span.parentSpanId ?? '')?.service);
    expect(parentService('quarry-agent', /^process /)).toContain('quarry-gateway');
    expect(parentService('quarry-retrieval', /^process /)).toContain('quarry-agent');
    // Agent nodes, the model call in GenAI conventions, Postgres and Redis.
    expect(spans.some((span) => span.name.startsWith('agent.node '))).toBe(true);
    const chat = spans.find((span) => span.name === 'chat fake-chat');
    expect(chat?.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'fake-chat' });
    expect(Number(chat?.attributes['gen_ai.usage.input_tokens'])).toBeGreaterThan(0);
    expect(Number(chat?.attributes['gen_ai.usage.output_tokens'])).toBeGreaterThan(0);
    expect(spans.some((span) => span.attributes['db.system'] === 'postgresql' || span.attributes['db.system.name'] === 'postgresql')).toBe(true);
    expect(spans.some((span) => span.attributes['db.system'] === 'redis' || span.attributes['db.system.name'] === 'redis')).toBe(true);

    const access = (lines.get('gateway') ?? []).find((line) => line.message === 'http request' && line.correlationId === correlationId);
    expect(access).toMatchObject({ tenantId: 'default', trace_id: root.traceId });
    expect(access?.span_id).toMatch(/^[0-9a-f]{16}$/);
    const agentLines = (lines.get('agent') ?? []).filter((line) => line.correlationId === correlationId);
    expect(agentLines.length).toBeGreaterThan(0);
    for (const line of agentLines) expect(line).toMatchObject({ trace_id: root.traceId, tenantId: 'default' });
  });

  it('every dashboard expression returns data from the real Prometheus', async () => {
    const dashboard = JSON.parse(await readFile(join(repoRoot(), 'deploy', 'grafana', 'quarry-dashboard.json'), 'utf8')) as {
      panels: Array<{ title: string; targets?: Array<{ expr: string }> }>;
    };
    const expressions = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => ({ panel: panel.title, expr: target.expr })));
    expect(expressions.length).toBeGreaterThan(30);
    const emptyNow = async () => {
      const empty: string[] = [];
      for (const { panel, expr } of expressions) {
        const query = expr.replaceAll('$__rate_interval', '1m').replaceAll('$service', '.*');
        if ((await prometheus.query(query)).length === 0) empty.push(`${panel}: ${query}`);
      }
      return empty;
    };
    // Series the query above created need two scrapes before rate() has them.
    let empty: string[] = [];
    await waitFor(async () => (empty = await emptyNow()).length === 0, { timeoutMs: 10 * SCRAPE_SECONDS * 1000, description: 'every expression to return data' }).catch(() => undefined);
    expect({ empty, targets: empty.length > 0 ? await prometheus.targets() : '' }).toEqual({ empty: [], targets: '' });
  });

  it('during an agent outage the 5xx rate is non-zero within one scrape interval of the first errors', async () => {
    const errors = 'sum(rate(quarry_http_responses_total{service="gateway", route="/api/query", status_class="5xx"}[30s]))';
    // Before the outage the series exists at 0: the first errors move it instead of creating it.
    expect({ before: await prometheus.value(errors), targets: await prometheus.targets() }).toMatchObject({ before: 0 });
    await stack.stopService('agent');
    try {
      for (let i = 0; i < 5; i++) expect((await ask(`Question ${i} while the agent is down?`)).status).toBe(503);
      const erroredAt = Date.now();
      await waitFor(async () => ((await prometheus.value(errors)) ?? 0) > 0, { timeoutMs: 10_000, intervalMs: 50, description: 'a non-zero 5xx rate' });
      const lagMs = Date.now() - erroredAt;
      // One scrape interval for the sample, plus the query's own round trip on a busy machine.
      expect(lagMs).toBeLessThanOrEqual(SCRAPE_SECONDS * 1000 + 1000);
      const ratio = await prometheus.value(
        'sum(rate(quarry_http_responses_total{service="gateway", route="/api/query", status_class="5xx"}[30s])) / sum(rate(quarry_http_responses_total{service="gateway", route="/api/query"}[30s]))',
      );
      expect(ratio).toBeGreaterThan(0);
    } finally {
      await stack.startService('agent', modelEnv());
    }
  });

  it(`with ingestion stopped, ${BACKLOG_DOCUMENTS} uploads show as a backlog of ${BACKLOG_DOCUMENTS} whose age grows`, async () => {
    await stack.stopService('ingestion');
    const backlog = 'sum(max by (state) (quarry_queue_jobs{queue="ingestion", state=~"waiting|prioritized"}))';
    const age = 'max(quarry_queue_oldest_waiting_age_seconds{queue="ingestion"})';
    for (let start = 0; start < BACKLOG_DOCUMENTS; start += 25) {
      await Promise.all(Array.from({ length: Math.min(25, BACKLOG_DOCUMENTS - start) }, (_, i) => upload(`note-${start + i}.txt`, `Note ${start + i}: the meeting room ${start + i} has a projector.\n`)));
    }
    await waitFor(async () => (await prometheus.value(backlog)) === BACKLOG_DOCUMENTS, { timeoutMs: 15_000, description: `a backlog of ${BACKLOG_DOCUMENTS}` });
    // The ingestion service is gone: the others report its queue.
    const reporters = await prometheus.query('count by (service) (quarry_queue_jobs{queue="ingestion", state="prioritized"})');
    expect(reporters.map((sample) => sample.labels.service).sort()).toEqual(['agent', 'gateway', 'retrieval', 'task-scheduler']);
    const first = (await prometheus.value(age)) ?? 0;
    await sleep(3 * SCRAPE_SECONDS * 1000);
    const later = (await prometheus.value(age)) ?? 0;
    expect(first).toBeGreaterThan(0);
    expect(later - first).toBeGreaterThanOrEqual(2);
    expect(await prometheus.value(backlog)).toBe(BACKLOG_DOCUMENTS);
  });
});
