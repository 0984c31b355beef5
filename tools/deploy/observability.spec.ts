// Validates the Grafana dashboard against Grafana's dashboard JSON Schema and checks that every
// PromQL query uses only metrics the services actually expose (deploy-facts.ts), filtered by the
// `service` variable; and that the Prometheus/Grafana files for the compose stack point at the
// right services, ports and paths.
//
// PromQL is checked lexically here (metric names, label filter, histogram use); the real-Prometheus
// test (apps/e2e/test/prometheus-outage.e2e.spec.ts) executes every expression and wants data back.
import * as path from 'node:path';
import { ServiceMetrics } from '@quarry/observability';
import { HEALTH, QUARRY_METRICS, SERVICES, SERVICE_NAMES, SERVICE_SPECIFIC_METRICS, defaultMetrics, type MetricType } from './deploy-facts';
import {
  SHARED_DATA,
  isObject,
  loadSingleYaml,
  readJson,
  repoPath,
  schemaValidator,
  validationErrors,
  type JsonObject,
} from './deploy-test-support';
import { metricNames } from './promql';

/** Series names that exist: counters/gauges as is, histograms only as _bucket/_sum/_count. */
function seriesNames(metrics: Record<string, MetricType>): Set<string> {
  const out = new Set<string>();
  for (const [name, type] of Object.entries(metrics)) {
    if (type === 'histogram') ['_bucket', '_sum', '_count'].forEach((suffix) => out.add(name + suffix));
    else out.add(name);
  }
  return out;
}

// `up` is Prometheus' own series per scraped target: it has no `service` label, only the scrape job's.
const PROMETHEUS_SERIES = ['up'];
const DOCUMENTED_SERIES = new Set([...seriesNames({ ...QUARRY_METRICS, ...SERVICE_SPECIFIC_METRICS, ...defaultMetrics() }), ...PROMETHEUS_SERIES]);

// ---- dashboard ----------------------------------------------------------------------------------

interface Target {
  refId?: string;
  expr?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  type: string;
  id?: number;
  title?: string;
  gridPos?: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query?: unknown;
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  uid?: string;
  panels?: Panel[];
  templating: { list?: Variable[] };
}

const DASHBOARD_FILE = repoPath('deploy', 'grafana', 'quarry-dashboard.json');
const rawDashboard = readJson(DASHBOARD_FILE);
const dashboard = rawDashboard as Dashboard;
const validateDashboard = schemaValidator(path.join(SHARED_DATA, 'grafana-schemas', 'dashboard.jsonschema.json'));

const allPanels: Panel[] = (dashboard.panels ?? []).flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = allPanels.filter((p) => p.type !== 'row');
const queries = queryPanels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title ?? String(p.id), expr: t.expr ?? '' })));

describe('Grafana dashboard: JSON Schema (grafana-foundation-sdk dashboard)', () => {
  it('is valid', () => {
    expect(validationErrors(validateDashboard, rawDashboard)).toEqual([]);
  });

  it('the validator is strict: an import-only key or a malformed panel fails', () => {
    expect(validationErrors(validateDashboard, { ...(rawDashboard as JsonObject), __inputs: [] })).not.toEqual([]);
    const broken = structuredClone(rawDashboard) as { panels: JsonObject[] };
    broken.panels[1].gridPos = { h: 8, w: 30, x: 0, y: 0 };
    expect(validationErrors(validateDashboard, broken)).not.toEqual([]);
  });
});

describe('Grafana dashboard: queries', () => {
  it('has queries', () => {
    expect(queries.length).toBeGreaterThan(10);
  });

  it.each(queries.map((q) => [q.panel, q.expr] as const))('%s: %s uses only documented metrics', (_panel, expr) => {
    const names = metricNames(expr);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect([name, DOCUMENTED_SERIES.has(name)]).toEqual([name, true]);
  });

  it.each(queries.map((q) => [q.panel, q.expr] as const))('%s: every selector filters on service=~"$service"', (_panel, expr) => {
    const selectors = expr.match(/[A-Za-z_:][A-Za-z0-9_:]*\{[^}]*\}/g) ?? [];
    expect(selectors).toHaveLength(metricNames(expr).length);
    for (const selector of selectors) {
      if (selector.startsWith('up{')) expect(selector).toContain('job=~"quarry.*"');
      else expect(selector).toContain('service=~"$service"');
    }
  });

  it('histogram_quantile is only applied to _bucket series aggregated by le', () => {
    for (const { expr } of queries.filter((q) => q.expr.includes('histogram_quantile'))) {
      expect(metricNames(expr).every((n) => n.endsWith('_bucket'))).toBe(true);
      expect(expr).toMatch(/by \((?:[^)]*, )?le(?:,[^)]*)?\)/);
    }
  });

  it('covers every Quarry metric and the runtime essentials (RSS, CPU, event-loop lag)', () => {
    const used = new Set(queries.flatMap((q) => metricNames(q.expr)).map((n) => n.replace(/_(bucket|sum|count)$/, '')));
    for (const metric of [
      ...Object.keys(QUARRY_METRICS),
      'process_resident_memory_bytes',
      'process_cpu_seconds_total',
      'nodejs_eventloop_lag_seconds',
    ]) {
      expect([metric, used.has(metric)]).toEqual([metric, true]);
    }
  });

  it('is templated by service (from a documented metric) and a Prometheus data source', () => {
    const vars = dashboard.templating.list ?? [];
    const ds = vars.find((v) => v.name === 'datasource');
    expect(ds?.type).toBe('datasource');
    expect(ds?.query).toBe('prometheus');
    const svc = vars.find((v) => v.name === 'service');
    expect(svc?.type).toBe('query');
    const match = /^label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*service\s*\)$/.exec(String(svc?.query));
    expect(match).not.toBeNull();
    expect(DOCUMENTED_SERIES.has(match?.[1] ?? '')).toBe(true);
  });

  it('every panel and target reads from the ${datasource} variable', () => {
    for (const p of queryPanels) {
      expect([p.title, p.datasource?.uid]).toEqual([p.title, '${datasource}']);
      for (const t of p.targets ?? []) expect([p.title, t.datasource?.uid ?? '${datasource}']).toEqual([p.title, '${datasource}']);
    }
  });

  it('panel ids are unique, refIds are unique per panel, and panels do not overlap', () => {
    const ids = allPanels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of queryPanels) {
      const refIds = (p.targets ?? []).map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
    const cells = new Map<string, string>();
    for (const p of allPanels) {
      const g = p.gridPos;
      if (!g) continue;
      for (let x = g.x; x < g.x + g.w; x++) {
        for (let y = g.y; y < g.y + g.h; y++) {
          const key = `${x},${y}`;
          expect([key, cells.get(key)]).toEqual([key, undefined]);
          cells.set(key, p.title ?? '');
        }
      }
    }
  });
});

describe('the documented metrics', () => {
  it('are exactly the ones the services register, with the same types', async () => {
    const registry = new ServiceMetrics('contract-check').registry;
    const defaults = defaultMetrics();
    const registered = Object.fromEntries(
      (await registry.getMetricsAsJSON()).filter((metric) => !(metric.name in defaults)).map((metric) => [metric.name, String(metric.type)]),
    );
    expect(registered).toEqual(QUARRY_METRICS);
  });
});

describe('PromQL lexer (used above)', () => {
  it('extracts metric names and ignores functions, labels, ranges and keywords', () => {
    expect(
      metricNames(
        'histogram_quantile(0.95, sum by (le, route) (rate(quarry_http_request_duration_seconds_bucket{service=~"$service", route!~"/health.*"}[$__rate_interval])))',
      ),
    ).toEqual(['quarry_http_request_duration_seconds_bucket']);
    expect(metricNames('sum(rate(a_total{x="y"}[5m])) / on (job) group_left sum(b) > bool 1e3')).toEqual(['a_total', 'b']);
  });

  it('rejects an undocumented metric and a bare histogram name', () => {
    expect(DOCUMENTED_SERIES.has('quarry_http_requests_total')).toBe(false);
    expect(DOCUMENTED_SERIES.has('quarry_job_duration_seconds')).toBe(false);
    expect(DOCUMENTED_SERIES.has('quarry_job_duration_seconds_count')).toBe(true);
    expect(DOCUMENTED_SERIES.has('nodejs_eventloop_lag_seconds')).toBe(true);
  });
});

// ---- Prometheus + Grafana provisioning for the compose stack -------------------------------------

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  static_configs?: { targets: string[]; labels?: Record<string, string> }[];
}

describe('deploy/prometheus/prometheus.yml', () => {
  const config = loadSingleYaml(repoPath('deploy', 'prometheus', 'prometheus.yml')) as { scrape_configs?: ScrapeConfig[] };
  const composeServices = Object.keys(
    (loadSingleYaml(repoPath('docker-compose.yml'), { merge: true }) as { services: Record<string, unknown> }).services,
  );
  const jobs = config.scrape_configs ?? [];
  const quarryJobs = jobs.filter((j) => (j.static_configs ?? []).some((c) => c.targets.some((t) => SERVICE_NAMES.some((s) => t.startsWith(`${s}:`)))));

  it('scrapes every service once, at <compose service>:<documented port>/metrics', () => {
    const targets = quarryJobs.flatMap((j) => (j.static_configs ?? []).flatMap((c) => c.targets));
    expect([...targets].sort()).toEqual(SERVICE_NAMES.map((s) => `${s}:${SERVICES[s].port}`).sort());
    for (const target of targets) expect(composeServices).toContain(target.split(':')[0]);
    for (const job of quarryJobs) expect(job.metrics_path ?? '/metrics').toBe(HEALTH.metrics);
  });

  it('does not set a `service` target label (it would shadow the metrics\' own label)', () => {
    for (const job of jobs) for (const c of job.static_configs ?? []) expect(Object.keys(c.labels ?? {})).not.toContain('service');
  });

  it('job names are unique', () => {
    const names = jobs.map((j) => j.job_name);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('deploy/grafana/provisioning', () => {
  const compose = loadSingleYaml(repoPath('docker-compose.yml'), { merge: true }) as {
    services: Record<string, { volumes?: string[] }>;
  };
  const grafanaMounts = (compose.services.grafana?.volumes ?? []).map((v) => v.split(':'));

  it('the dashboard provider reads the folder the dashboard is mounted into', () => {
    const provider = loadSingleYaml(repoPath('deploy', 'grafana', 'provisioning', 'dashboards', 'quarry.yml')) as {
      providers: { options: { path: string } }[];
    };
    const mount = grafanaMounts.find(([source]) => source.endsWith('quarry-dashboard.json'));
    expect(mount).toBeDefined();
    expect(path.posix.dirname(mount?.[1] ?? '')).toBe(provider.providers[0].options.path);
  });

  it('the data source points at the compose Prometheus service', () => {
    const ds = loadSingleYaml(repoPath('deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml')) as {
      datasources: { type: string; url: string; isDefault?: boolean }[];
    };
    expect(ds.datasources).toHaveLength(1);
    expect(ds.datasources[0].type).toBe('prometheus');
    expect(ds.datasources[0].isDefault).toBe(true);
    const host = new URL(ds.datasources[0].url).hostname;
    expect(Object.keys(compose.services)).toContain(host);
    expect(isObject(compose.services[host])).toBe(true);
  });
});
