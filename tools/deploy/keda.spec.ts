// The kustomize components k8s/components/keda and k8s/components/monitoring, rendered by the real
// kustomize (kubectl kustomize) on top of k8s/base in a throw-away overlay, as an operator would add
// them: the ScaledObjects, PodMonitor and PrometheusRule are valid for the vendored CRD schemas
// (tools/deploy/schemas, see SOURCES.md), the ScaledObjects replace exactly the ingestion and
// retrieval HPAs and keep their bounds, scale on queue depth counted the way BullMQ stores it, and
// the PodMonitor scrapes every service without renaming Quarry's labels.
//
// Not covered: KEDA's admission webhook and CEL rules (checked here by hand where they matter),
// and whether Prometheus is reachable at the placeholder address.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type ValidateFunction } from 'ajv';
import { HEALTH, SERVICE_NAMES } from './deploy-facts';
import { inlineValidator, isObject, loadSingleYaml, parseYaml, readJson, repoPath, validationErrors, type JsonObject } from './deploy-test-support';

// ---- CRD schemas, made as strict as the API server ------------------------------------------------

const SCHEMA_DIR = repoPath('tools', 'deploy', 'schemas');

/**
 * A CRD's openAPIV3Schema leaves unknown fields open (the API server prunes them, and kubectl's
 * default `--validate=strict` rejects them). Closing every object that lists its properties (and is
 * not marked x-kubernetes-preserve-unknown-fields) makes a misspelt field fail here as it would on
 * apply. The root gets apiVersion, kind and metadata, which a CRD schema leaves to the API server.
 */
function strictCrd(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(strictCrd);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(node)) {
    out[key] = key === 'properties' && isObject(value) ? Object.fromEntries(Object.entries(value).map(([p, s]) => [p, strictCrd(s)])) : strictCrd(value);
  }
  if (typeof out.pattern === 'string') out.pattern = jsPattern(out.pattern);
  if (isObject(out.properties) && out.additionalProperties === undefined && out['x-kubernetes-preserve-unknown-fields'] !== true) out.additionalProperties = false;
  return out;
}

/**
 * Go's RE2 allows an inline `(?i)` flag, JavaScript does not (PrometheusRule's
 * partial_response_strategy: `^(?i)(abort|warn)?$`): spell each letter as [xX]. Only for patterns
 * without character classes, where that is exact.
 */
function jsPattern(pattern: string): string {
  if (!pattern.includes('(?i)')) return pattern;
  if (pattern.includes('[')) throw new Error(`cannot translate the RE2 pattern ${pattern}`);
  return pattern.replace('(?i)', '').replace(/[a-z]/gi, (c) => `[${c.toLowerCase()}${c.toUpperCase()}]`);
}

const METADATA_SCHEMA: JsonObject = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'namespace'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
    namespace: { type: 'string' },
    labels: { type: 'object', additionalProperties: { type: 'string' } },
    annotations: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

function crdValidator(file: string, apiVersion: string, kind: string): ValidateFunction {
  const schema = strictCrd(readJson(path.join(SCHEMA_DIR, file))) as JsonObject & { properties: JsonObject; required?: string[] };
  return inlineValidator({
    ...schema,
    required: [...new Set([...(schema.required ?? []), 'apiVersion', 'kind', 'metadata', 'spec'])],
    properties: { ...schema.properties, apiVersion: { const: apiVersion }, kind: { const: kind }, metadata: METADATA_SCHEMA },
  });
}

const validateScaledObject = crdValidator('scaledobject-keda.sh-v1alpha1.json', 'keda.sh/v1alpha1', 'ScaledObject');
const validatePodMonitor = crdValidator('podmonitor-monitoring.coreos.com-v1.json', 'monitoring.coreos.com/v1', 'PodMonitor');
const validatePrometheusRule = crdValidator('prometheusrule-monitoring.coreos.com-v1.json', 'monitoring.coreos.com/v1', 'PrometheusRule');

// ---- shapes ---------------------------------------------------------------------------------------

type StringMap = Record<string, string>;
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: StringMap; annotations?: StringMap };
}
interface Trigger {
  type: string;
  name?: string;
  metricType?: string;
  metadata: StringMap;
}
interface ScaledObject extends K8sObject {
  spec: {
    scaleTargetRef: { apiVersion?: string; kind?: string; name: string };
    minReplicaCount?: number;
    maxReplicaCount?: number;
    fallback?: { failureThreshold: number; replicas: number; behavior?: string };
    advanced?: { horizontalPodAutoscalerConfig?: { name?: string; behavior?: unknown } };
    triggers: Trigger[];
  };
}
interface Hpa extends K8sObject {
  spec: {
    scaleTargetRef: { name: string };
    minReplicas?: number;
    maxReplicas: number;
    behavior?: unknown;
    metrics?: { resource?: { name: string; target: { averageUtilization?: number } } }[];
  };
}
interface Deployment extends K8sObject {
  spec: {
    template: {
      metadata?: { labels?: StringMap };
      spec: { containers: { name: string; ports?: { name?: string }[]; resources?: { requests?: Record<string, unknown> } }[] };
    };
  };
}
interface PodMonitor extends K8sObject {
  spec: {
    jobLabel?: string;
    selector: { matchLabels?: StringMap };
    namespaceSelector?: unknown;
    podTargetLabels?: string[];
    podMetricsEndpoints: { port?: string; path?: string; honorLabels?: boolean; relabelings?: unknown[]; metricRelabelings?: unknown[] }[];
  };
}

// ---- render -----------------------------------------------------------------------------------------

const COMPONENTS = ['monitoring', 'keda'].map((c) => repoPath('k8s', 'components', c));
const BASE = repoPath('k8s', 'base');

function kustomize(dir: string): K8sObject[] {
  let text: string;
  try {
    text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000 });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`kubectl kustomize ${dir} failed (kubectl with kustomize is needed): ${stderr || message}`);
  }
  return parseYaml(text, `kubectl kustomize ${dir}`) as K8sObject[];
}

/**
 * base + both components, through an overlay written to a temp folder. kustomize refuses absolute
 * paths to directories, so the overlay names them relative to itself (kustomize allows bases and
 * components outside an overlay's root; only plain files are restricted).
 */
function renderWithComponents(): K8sObject[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quarry-overlay-'));
  try {
    const relative = (target: string) => path.relative(dir, target);
    const overlay = [
      'apiVersion: kustomize.config.k8s.io/v1beta1',
      'kind: Kustomization',
      'resources:',
      `  - ${relative(BASE)}`,
      'components:',
      ...COMPONENTS.map((c) => `  - ${relative(c)}`),
      '',
    ].join('\n');
    fs.writeFileSync(path.join(dir, 'kustomization.yaml'), overlay);
    return kustomize(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const rendered = renderWithComponents();
const baseOnly = kustomize(BASE);

const ofKind = <T extends K8sObject>(objects: readonly K8sObject[], kind: string): T[] => objects.filter((o) => o.kind === kind) as T[];
const byName = <T extends K8sObject>(objects: readonly K8sObject[], kind: string, name: string): T | undefined =>
  ofKind<T>(objects, kind).find((o) => o.metadata.name === name);

const SCALED = ['ingestion', 'retrieval'] as const;
const scaledObjects = ofKind<ScaledObject>(rendered, 'ScaledObject');
const podMonitors = ofKind<PodMonitor>(rendered, 'PodMonitor');
const prometheusRules = ofKind(rendered, 'PrometheusRule');

/** The scrape job the alert rules select (`up{job=~"..."}` in QuarryServiceDown). */
function alertJobRegex(): RegExp {
  const { groups } = loadSingleYaml(repoPath('deploy', 'prometheus', 'rules', 'quarry-alerts.yml')) as { groups: { rules: { alert?: string; expr: string }[] }[] };
  const expr = groups.flatMap((g) => g.rules).find((r) => r.alert === 'QuarryServiceDown')?.expr ?? '';
  const pattern = /up\{job=~"([^"]+)"\}/.exec(expr)?.[1];
  if (!pattern) throw new Error('QuarryServiceDown does not select up{job=~"..."}');
  return new RegExp(`^(?:${pattern})$`); // PromQL regexes are anchored
}

// ---- tests ----------------------------------------------------------------------------------------

describe('k8s components: layout', () => {
  it.each(COMPONENTS.map((c) => [path.basename(c), c] as const))('%s is a kustomize Component without its own namespace', (_name, dir) => {
    const k = loadSingleYaml(path.join(dir, 'kustomization.yaml')) as JsonObject;
    expect(k).toMatchObject({ apiVersion: 'kustomize.config.k8s.io/v1alpha1', kind: 'Component' });
    // A component inherits the overlay's namespace; setting one here would fight it.
    expect(k.namespace).toBeUndefined();
  });

  it('renders with the base: two ScaledObjects, one PodMonitor, one PrometheusRule, everything in the base namespace', () => {
    expect(scaledObjects.map((o) => o.metadata.name).sort()).toEqual([...SCALED]);
    expect(podMonitors).toHaveLength(1);
    expect(prometheusRules).toHaveLength(1);
    const namespace = byName<Deployment>(rendered, 'Deployment', 'gateway')?.metadata.namespace;
    for (const o of [...scaledObjects, ...podMonitors, ...prometheusRules]) expect(`${o.kind}/${o.metadata.name} ${o.metadata.namespace}`).toBe(`${o.kind}/${o.metadata.name} ${namespace}`);
  });
});

describe('k8s components: CRD schemas', () => {
  it.each(scaledObjects.map((o) => [o.metadata.name, o] as const))('ScaledObject %s is valid for keda.sh/v1alpha1', (_n, o) => {
    expect(validationErrors(validateScaledObject, o)).toEqual([]);
  });

  it('the PodMonitor and the PrometheusRule are valid for monitoring.coreos.com/v1', () => {
    for (const o of podMonitors) expect(validationErrors(validatePodMonitor, o)).toEqual([]);
    for (const o of prometheusRules) expect(validationErrors(validatePrometheusRule, o)).toEqual([]);
  });

  it('the validators reject broken objects (misspelt field, wrong type, missing required)', () => {
    const so = structuredClone(scaledObjects[0]) as unknown as { spec: JsonObject & { triggers: JsonObject[] } };
    expect(validationErrors(validateScaledObject, { ...so, spec: { ...so.spec, maxReplicaCounts: 4 } }).join('\n')).toMatch(/maxReplicaCounts/);
    expect(validationErrors(validateScaledObject, { ...so, spec: { ...so.spec, minReplicaCount: 'one' } })).not.toEqual([]);
    expect(validationErrors(validateScaledObject, { ...so, spec: { ...so.spec, triggers: [{ type: 'prometheus' }] } })).not.toEqual([]);
    expect(validationErrors(validateScaledObject, { ...so, spec: { ...so.spec, fallback: { replicas: 2 } } })).not.toEqual([]);
    expect(validationErrors(validateScaledObject, { ...so, kind: 'ScaledJob' })).not.toEqual([]);

    const pm = structuredClone(podMonitors[0]) as unknown as { spec: JsonObject };
    expect(validationErrors(validatePodMonitor, { ...pm, spec: { ...pm.spec, podMetricEndpoints: [] } })).not.toEqual([]);
    const rule = structuredClone(prometheusRules[0]) as unknown as { spec: { groups: { rules: JsonObject[] }[] } };
    rule.spec.groups[0].rules[0].for = '5 minutes';
    expect(validationErrors(validatePrometheusRule, rule)).not.toEqual([]);
  });
});

describe('k8s components: KEDA replaces the ingestion and retrieval HPAs', () => {
  it('removes exactly those two HPAs; the base alone keeps all five', () => {
    expect(ofKind<Hpa>(baseOnly, 'HorizontalPodAutoscaler').map((h) => h.metadata.name).sort()).toEqual([...SERVICE_NAMES].sort());
    expect(ofKind<Hpa>(rendered, 'HorizontalPodAutoscaler').map((h) => h.metadata.name).sort()).toEqual(SERVICE_NAMES.filter((s) => !SCALED.includes(s as never)).sort());
  });

  describe.each(SCALED)('%s', (service) => {
    const so = byName<ScaledObject>(rendered, 'ScaledObject', service) as ScaledObject;
    const hpa = byName<Hpa>(baseOnly, 'HorizontalPodAutoscaler', service) as Hpa;
    const trigger = (type: string) => so.spec.triggers.filter((t) => t.type === type);

    it('targets its existing Deployment, whose containers request cpu and memory (KEDA refuses cpu/memory triggers otherwise)', () => {
      expect(so.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: service });
      const deployment = byName<Deployment>(rendered, 'Deployment', service);
      expect(deployment?.metadata.namespace).toBe(so.metadata.namespace);
      for (const c of deployment?.spec.template.spec.containers ?? []) expect(Object.keys(c.resources?.requests ?? {})).toEqual(expect.arrayContaining(['cpu', 'memory']));
    });

    it('keeps the base HPA\'s bounds and scale-down behaviour, and adopts the HPA on a running cluster', () => {
      expect([so.spec.minReplicaCount, so.spec.maxReplicaCount]).toEqual([hpa.spec.minReplicas ?? 1, hpa.spec.maxReplicas]);
      expect(so.spec.advanced?.horizontalPodAutoscalerConfig?.behavior).toEqual(hpa.spec.behavior);
      // transfer-hpa-ownership needs the existing HPA's name, or KEDA's webhook refuses the object.
      expect(so.metadata.annotations?.['scaledobject.keda.sh/transfer-hpa-ownership']).toBe('true');
      expect(so.spec.advanced?.horizontalPodAutoscalerConfig?.name).toBe(hpa.metadata.name);
    });

    it('scales on the queue depth, prioritized included, counted once across reporting services', () => {
      const [prometheus] = trigger('prometheus');
      expect(trigger('prometheus')).toHaveLength(1);
      const { query, threshold, serverAddress, ignoreNullValues } = prometheus.metadata;
      expect(query).toMatch(/^sum\(max by \(queue, state\) \(quarry_queue_jobs\{[^}]*\}\)\)$/);
      const selector = /\{([^}]*)\}/.exec(query)?.[1] ?? '';
      expect(selector).toContain(`queue="${service}"`);
      const states = /state=~"([^"]+)"/.exec(selector)?.[1].split('|') ?? [];
      expect(states.sort()).toEqual(['prioritized', 'waiting']);
      // KEDA does not rewrite the query when an overlay moves the namespace: the test does.
      expect(selector).toContain(`namespace="${so.metadata.namespace}"`);
      expect(Number(threshold)).toBeGreaterThan(0);
      expect(new URL(serverAddress).protocol).toMatch(/^https?:$/);
      // An empty result is an error (fallback), not zero work.
      expect(ignoreNullValues).toBe('false');
      // The fallback only works for AverageValue (the default) metrics.
      expect(prometheus.metricType ?? 'AverageValue').toBe('AverageValue');
    });

    it('keeps cpu (at the base HPA\'s target) and memory as triggers, and a fallback within the bounds', () => {
      const [cpu] = trigger('cpu');
      const [memory] = trigger('memory');
      expect([cpu?.metricType, memory?.metricType]).toEqual(['Utilization', 'Utilization']);
      expect(Number(cpu.metadata.value)).toBe(hpa.spec.metrics?.find((m) => m.resource?.name === 'cpu')?.resource?.target.averageUtilization);
      expect(Number(memory.metadata.value)).toBeGreaterThan(0);
      expect(Number(memory.metadata.value)).toBeLessThanOrEqual(100);
      const fallback = so.spec.fallback;
      expect(fallback?.failureThreshold).toBeGreaterThanOrEqual(1);
      expect(fallback?.replicas).toBeGreaterThanOrEqual(so.spec.minReplicaCount ?? 0);
      expect(fallback?.replicas).toBeLessThanOrEqual(so.spec.maxReplicaCount ?? 100);
      // The CRD's CEL rule, which ajv does not run.
      expect(so.spec.minReplicaCount ?? 0).toBeLessThanOrEqual(so.spec.maxReplicaCount ?? 100);
    });
  });
});

describe('k8s components: the PodMonitor', () => {
  const pm = podMonitors[0];
  const deployments = ofKind<Deployment>(rendered, 'Deployment');

  it('selects the pods of all five services, in its own namespace', () => {
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual([...SERVICE_NAMES].sort());
    const selector = Object.entries(pm.spec.selector.matchLabels ?? {});
    expect(selector.length).toBeGreaterThan(0);
    for (const d of deployments) {
      const labels = d.spec.template.metadata?.labels ?? {};
      expect([d.metadata.name, selector.every(([k, v]) => labels[k] === v)]).toEqual([d.metadata.name, true]);
    }
    expect(pm.spec.namespaceSelector).toBeUndefined();
  });

  it('scrapes /metrics on a port every service container has', () => {
    expect(pm.spec.podMetricsEndpoints).toHaveLength(1);
    const [endpoint] = pm.spec.podMetricsEndpoints;
    expect(endpoint.path).toBe(HEALTH.metrics);
    for (const d of deployments) {
      const ports = d.spec.template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name));
      expect([d.metadata.name, ports]).toEqual([d.metadata.name, expect.arrayContaining([endpoint.port])]);
    }
  });

  it('gives job="quarry"-style job labels the alert rules match, and renames none of Quarry\'s labels', () => {
    const jobRegex = alertJobRegex();
    for (const d of deployments) {
      const job = d.spec.template.metadata?.labels?.[pm.spec.jobLabel ?? ''];
      expect([d.metadata.name, job, jobRegex.test(job ?? `${pm.metadata.namespace}/${pm.metadata.name}`)]).toEqual([d.metadata.name, job, true]);
    }
    // A `service` target label would push the metrics' own to exported_service; relabelling and
    // honorLabels would change job/instance. None is used.
    expect(pm.spec.podTargetLabels ?? []).toEqual([]);
    for (const e of pm.spec.podMetricsEndpoints) {
      expect(e.honorLabels ?? false).toBe(false);
      expect(e.relabelings ?? []).toEqual([]);
      expect(e.metricRelabelings ?? []).toEqual([]);
    }
  });
});
