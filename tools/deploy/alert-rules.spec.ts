// The alert rules (deploy/prometheus/rules/quarry-alerts.yml): promtool accepts them and their unit
// tests pass; every alert has a test that fires it and one that keeps it silent; every expression
// uses only series and labels the code registers; the reason codes QuarryJobFailureRate ignores are
// real ErrorCodes; prometheus.yml loads the rules but not the tests; and the Prometheus Operator
// copy (k8s/components/monitoring/prometheusrule.yaml) is exactly the render of the rule file.
//
// Not covered: whether a threshold suits a given production's traffic. PromQL is lexed here for
// names; promtool parses and evaluates it.
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { ErrorCode, QueueName } from '@quarry/contracts';
import { SAMPLED_QUEUE_STATES } from '@quarry/transport';
import { QUARRY_METRICS, defaultMetrics, type MetricType } from './deploy-facts';
import { REPO_ROOT, listFiles, loadSingleYaml, parseDurationMs, readText, rel, repoPath } from './deploy-test-support';
import { metricNames } from './promql';
import { PROMETHEUS_RULE_FILE, RULE_FILE, renderPrometheusRule } from './render-prometheus-rule';

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}
interface AlertTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[];
}
interface TestFile {
  rule_files: string[];
  tests: { name: string; alert_rule_test?: AlertTest[] }[];
}

const TEST_FILE = repoPath('deploy', 'prometheus', 'rules-tests', 'quarry-alerts.test.yml');
const groups = (loadSingleYaml(RULE_FILE) as { groups: RuleGroup[] }).groups;
const rules = groups.flatMap((g) => g.rules);
const alerts = rules.filter((r): r is Rule & { alert: string } => typeof r.alert === 'string');
const testFile = loadSingleYaml(TEST_FILE) as TestFile;
const alertTests = testFile.tests.flatMap((t) => (t.alert_rule_test ?? []).map((a) => ({ test: t.name, ...a })));

/** Runs promtool; its output is the failure message, so a broken rule says what promtool says. */
function promtool(args: string[], cwd: string): { ok: boolean; output: string } {
  try {
    return { ok: true, output: execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 }) };
  } catch (error) {
    const { stdout, stderr, message } = error as { stdout?: string; stderr?: string; message: string };
    const output = `${stdout ?? ''}${stderr ?? ''}`.trim() || `${message} (promtool is installed by tools/ci/ensure-prometheus.sh)`;
    return { ok: false, output };
  }
}

// ---- what the code registers ------------------------------------------------------------------

interface MetricDecl {
  type: MetricType;
  labels: string[];
}

/**
 * Every prom-client metric declared in apps/ and libs/ sources: `new Counter|Gauge|Histogram({ name,
 * labelNames })`. Read from the sources because the agent's and the cache's metrics live on
 * registries a spec cannot build (apps are not importable); checked below against ServiceMetrics.
 */
function declaredMetrics(): Map<string, MetricDecl> {
  const out = new Map<string, MetricDecl>();
  const files = ['apps', 'libs'].flatMap((dir) => listFiles(repoPath(dir), ['.ts'])).filter((f) => !/\.(spec|test)\.ts$/.test(f) && !f.includes(`${path.sep}test${path.sep}`));
  for (const file of files) {
    const text = readText(file);
    const starts = [...text.matchAll(/new (Counter|Gauge|Histogram)\b/g)];
    starts.forEach((start, i) => {
      const body = text.slice(start.index, starts[i + 1]?.index ?? text.length);
      const name = /\bname:\s*'([a-zA-Z_:][a-zA-Z0-9_:]*)'/.exec(body)?.[1];
      if (!name) return;
      const labels = /\blabelNames:\s*\[([^\]]*)\]/.exec(body)?.[1] ?? '';
      out.set(name, { type: start[1].toLowerCase() as MetricType, labels: [...labels.matchAll(/'([^']+)'/g)].map((m) => m[1]) });
    });
  }
  return out;
}

const DECLARED = declaredMetrics();
/** Labels Prometheus attaches at scrape time (compose: job, instance; PodMonitor: also these). */
const TARGET_LABELS = ['job', 'instance', 'namespace', 'pod', 'container', 'endpoint'];

/** Series name -> labels it can carry. */
function knownSeries(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>([['up', new Set(TARGET_LABELS)]]);
  const add = (name: string, type: MetricType, labels: string[]) => {
    const all = [...labels, 'service', ...TARGET_LABELS];
    if (type !== 'histogram') out.set(name, new Set(all));
    else for (const suffix of ['_sum', '_count', '_bucket']) out.set(name + suffix, new Set(suffix === '_bucket' ? [...all, 'le'] : all));
  };
  for (const [name, { type, labels }] of DECLARED) add(name, type, labels);
  for (const [name, type] of Object.entries(defaultMetrics())) add(name, type, []);
  return out;
}
const SERIES = knownSeries();

// ---- PromQL: names from ./promql; promtool does the parsing -------------------------------

/** `name{label="v", ...}` selectors: the series name, and each matcher's label and value. */
function selectors(expr: string): { name: string; matchers: { label: string; value: string }[] }[] {
  return [...expr.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)\{([^}]*)\}/g)].map(([, name, body]) => ({
    name,
    matchers: [...body.matchAll(/([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g)].map(([, label, value]) => ({ label, value })),
  }));
}

/** Labels named in by/without/on/ignoring clauses. */
const groupingLabels = (expr: string): string[] =>
  [...expr.matchAll(/\b(?:by|without|on|ignoring)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((l) => l.trim()).filter(Boolean));

/** The excluded reason codes of QuarryJobFailureRate (`reason_code!~"A|B|..."`). */
const excludedReasonCodes = (): string[] => {
  const rule = alerts.find((a) => a.alert === 'QuarryJobFailureRate');
  const regex = /reason_code!~"([^"]+)"/.exec(rule?.expr ?? '')?.[1] ?? '';
  return regex.split('|').filter(Boolean);
};

// ---- tests -------------------------------------------------------------------------------------

describe('alert rules: promtool', () => {
  it('promtool check rules accepts the rule file', () => {
    expect(promtool(['check', 'rules', RULE_FILE], path.dirname(RULE_FILE))).toMatchObject({ ok: true });
  });

  it('promtool test rules passes every unit test', () => {
    expect(promtool(['test', 'rules', path.basename(TEST_FILE)], path.dirname(TEST_FILE))).toMatchObject({ ok: true });
  });

  it('the unit tests load exactly this rule file', () => {
    expect(testFile.rule_files.map((f) => path.resolve(path.dirname(TEST_FILE), f))).toEqual([RULE_FILE]);
  });

  it('deploy/prometheus/prometheus.yml loads the rule file and not the tests (promtool check config)', () => {
    const config = repoPath('deploy', 'prometheus', 'prometheus.yml');
    const result = promtool(['check', 'config', config], REPO_ROOT);
    expect(result).toMatchObject({ ok: true });
    const checked = [...result.output.matchAll(/^Checking (.+\.ya?ml)$/gm)].map((m) => path.resolve(REPO_ROOT, m[1])).filter((f) => f !== config);
    expect(checked).toEqual([RULE_FILE]);
  });
});

describe('alert rules: shape', () => {
  it('has the alerts the operations issue asks for, in quarry-* groups, with unique names', () => {
    expect(groups.length).toBeGreaterThan(0);
    for (const g of groups) expect(g.name).toMatch(/^quarry-[a-z-]+$/);
    const names = alerts.map((a) => a.alert);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(
      expect.arrayContaining([
        'QuarryServiceDown', 'QuarryNotReady', 'QuarryHigh5xxRatio', 'QuarryQueryLatencyHigh', 'QuarryIngestionBacklogOld',
        'QuarryQueueBacklogLarge', 'QuarryJobFailureRate', 'QuarryCacheHitRateLow', 'QuarryCacheTierDown', 'QuarryResourceWarning',
        'QuarryResourceCritical', 'QuarryDiskAlmostFull', 'QuarryIndexCatchUpStale',
      ]),
    );
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s has a severity, a summary, a description and a `for`', (_name, rule) => {
    expect(['warning', 'critical']).toContain(rule.labels?.severity);
    expect(rule.annotations?.summary?.length).toBeGreaterThan(10);
    expect(rule.annotations?.description?.length).toBeGreaterThan(40);
    // A `for` keeps one bad scrape or evaluation from paging.
    expect(parseDurationMs(rule.for ?? '0s')).toBeGreaterThanOrEqual(60_000);
  });

  it('QuarryQueryLatencyHigh states the seed target it enforces', () => {
    const rule = alerts.find((a) => a.alert === 'QuarryQueryLatencyHigh');
    expect(rule?.expr).toMatch(/histogram_quantile\(0\.95,/);
    expect(rule?.expr).toMatch(/\) > 5\n/);
    expect(rule?.annotations?.description).toMatch(/Response Time Targets.*5 s maximum/s);
  });
});

describe('alert rules: unit tests cover every alert', () => {
  it('every alert named in a test exists (a test of a misspelt alert passes vacuously)', () => {
    const names = new Set(alerts.map((a) => a.alert));
    for (const t of alertTests) expect([t.test, t.alertname, names.has(t.alertname)]).toEqual([t.test, t.alertname, true]);
  });

  it.each(alerts.map((a) => [a.alert, a] as const))('%s: one test fires it, one keeps it silent after its `for`', (name, rule) => {
    const mine = alertTests.filter((t) => t.alertname === name);
    expect(mine.some((t) => (t.exp_alerts ?? []).length > 0)).toBe(true);
    const silent = mine.filter((t) => (t.exp_alerts ?? []).length === 0);
    expect(silent.length).toBeGreaterThan(0);
    // Silent before its `for` has elapsed proves nothing.
    for (const t of silent) expect([t.test, parseDurationMs(t.eval_time) > parseDurationMs(rule.for ?? '0s')]).toEqual([t.test, true]);
  });
});

describe('alert rules: expressions use what the services expose', () => {
  it('the source scan finds ServiceMetrics\' metrics with their real types (QUARRY_METRICS)', () => {
    for (const [name, type] of Object.entries(QUARRY_METRICS)) expect([name, DECLARED.get(name)?.type]).toEqual([name, type]);
    // and the agent's and the cache's, which live outside ServiceMetrics
    expect(DECLARED.get('rag_request_duration_seconds')).toEqual({ type: 'histogram', labels: ['operation', 'model', 'cache_hit'] });
    expect(DECLARED.get('quarry_cache_requests_total')).toEqual({ type: 'counter', labels: ['kind', 'tier', 'outcome'] });
  });

  it('no metric in the code has a label named job or instance (Prometheus would rename it exported_*)', () => {
    const clashing = [...DECLARED].filter(([, { labels }]) => labels.some((label) => label === 'job' || label === 'instance')).map(([name]) => name);
    expect(clashing).toEqual([]);
    expect(DECLARED.size).toBeGreaterThan(40);
  });

  it.each(rules.map((r) => [r.alert ?? r.record, r.expr] as const))('%s: series names exist', (_name, expr) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect([name, SERIES.has(name)]).toEqual([name, true]);
  });

  it.each(rules.map((r) => [r.alert ?? r.record, r.expr] as const))('%s: matched and grouped labels exist on those series', (_name, expr) => {
    for (const { name, matchers } of selectors(expr)) {
      for (const { label } of matchers) expect([name, label, SERIES.get(name)?.has(label)]).toEqual([name, label, true]);
    }
    const available = new Set(metricNames(expr).flatMap((n) => [...(SERIES.get(n) ?? [])]));
    for (const label of groupingLabels(expr)) expect([label, available.has(label)]).toEqual([label, true]);
  });

  it('queue and state label values are real', () => {
    const queues = new Set<string>(Object.values(QueueName));
    const states = new Set<string>(SAMPLED_QUEUE_STATES);
    for (const { matchers } of rules.flatMap((r) => selectors(r.expr))) {
      for (const { label, value } of matchers) {
        if (label === 'queue') for (const q of value.split('|')) expect([label, q, queues.has(q)]).toEqual([label, q, true]);
        if (label === 'state') for (const s of value.split('|')) expect([label, s, states.has(s)]).toEqual([label, s, true]);
      }
    }
  });

  it('the PromQL lexer is not vacuous: it finds names and rejects unknown ones', () => {
    expect(metricNames('sum by (queue) (max by (queue, state) (quarry_queue_jobs{state=~"waiting|prioritized"})) > 1e3')).toEqual(['quarry_queue_jobs']);
    expect(metricNames('time() - quarry_index_last_catchup_timestamp_seconds > 300 and on (x) up')).toEqual(['quarry_index_last_catchup_timestamp_seconds', 'up']);
    expect(SERIES.has('quarry_http_requests_total')).toBe(false);
    expect(SERIES.has('rag_request_duration_seconds')).toBe(false);
    expect(SERIES.get('quarry_jobs_total')?.has('job_name')).toBe(true);
    expect(SERIES.get('quarry_queue_jobs')?.has('job_name')).toBe(false);
  });
});

describe('QuarryJobFailureRate: excluded reason codes', () => {
  const excluded = excludedReasonCodes();

  it('are real ErrorCode values', () => {
    expect(excluded.length).toBeGreaterThan(5);
    const codes = new Set<string>(Object.values(ErrorCode));
    for (const code of excluded) expect([code, codes.has(code)]).toEqual([code, true]);
  });

  it('blame the client\'s input only: server-side failures still count', () => {
    for (const code of [ErrorCode.ServiceUnavailable, ErrorCode.Timeout, ErrorCode.UpstreamModelError, ErrorCode.Internal, ErrorCode.UnknownJob]) {
      expect(excluded).not.toContain(code);
    }
    expect(excluded).toEqual(expect.arrayContaining([ErrorCode.UnsupportedType, ErrorCode.CorruptDocument, ErrorCode.PasswordRequired, ErrorCode.EmptyDocument]));
  });
});

describe('k8s PrometheusRule: one source of truth', () => {
  it('carries exactly the rule file\'s groups', () => {
    const manifest = loadSingleYaml(PROMETHEUS_RULE_FILE) as { kind: string; spec: { groups: unknown } };
    expect(manifest.kind).toBe('PrometheusRule');
    expect(manifest.spec.groups).toEqual(groups);
  });

  it(`is the committed output of render-prometheus-rule.ts (${rel(PROMETHEUS_RULE_FILE)})`, () => {
    // On failure: npm run build && node dist/tools/deploy/render-prometheus-rule.js
    expect(readText(PROMETHEUS_RULE_FILE)).toBe(renderPrometheusRule());
  });
});
