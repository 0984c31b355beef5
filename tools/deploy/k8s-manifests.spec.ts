// Validates k8s/: every object against the pinned Kubernetes v1.31 strict JSON Schema for its
// apiVersion/kind, the kustomizations (base coverage, overlay patches re-validated), and the
// deployment contract in deploy-facts.ts (ports, probes, shutdown grace, env, security, memory).
//
// Not covered: anything needing a cluster (admission, CRDs). JSON6902 patches are applied by a small
// in-test implementation; env-drift.spec.ts checks what the real kustomize renders.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  CREDENTIAL_ENV,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  ENV_SCHEMAS,
  HEALTH,
  SECRET_NAME,
  SERVICES,
  SERVICE_NAMES,
  ALL_ENV,
  entryPoint,
  envOf,
  type ServiceName,
} from './deploy-facts';
import {
  SHARED_DATA,
  inlineValidator,
  isObject,
  listFiles,
  loadSingleYaml,
  loadYaml,
  parseYaml,
  parseNginxSize,
  parseQuantity,
  readEnvFile,
  readText,
  rel,
  repoPath,
  schemaValidator,
  validationErrors,
  type JsonObject,
} from './deploy-test-support';

// ---- shapes (only what the checks read; the schemas guarantee the rest) -----------------------

type StringMap = Record<string, string>;
interface Metadata {
  name: string;
  namespace?: string;
  labels?: StringMap;
  annotations?: StringMap;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Metadata;
}
interface Probe {
  httpGet?: { path?: string; port: number | string };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> };
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds: number } } };
  securityContext?: {
    runAsNonRoot?: boolean;
    runAsUser?: number;
    allowPrivilegeEscalation?: boolean;
    readOnlyRootFilesystem?: boolean;
    privileged?: boolean;
    capabilities?: { drop?: string[]; add?: string[] };
  };
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  volumes?: { name: string; emptyDir?: { medium?: string; sizeLimit?: string } }[];
}
interface Deployment extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels?: StringMap };
    template: { metadata?: { labels?: StringMap; annotations?: StringMap }; spec: PodSpec };
  };
}
interface Service extends K8sObject {
  spec: { selector?: StringMap; ports: { name?: string; port: number; targetPort?: number | string }[] };
}
interface Hpa extends K8sObject {
  spec: {
    scaleTargetRef: { apiVersion?: string; kind: string; name: string };
    minReplicas?: number;
    maxReplicas: number;
    metrics?: { type: string; resource?: { name: string; target: { type: string; averageUtilization?: number } } }[];
  };
}
interface Pdb extends K8sObject {
  spec: { selector?: { matchLabels?: StringMap }; minAvailable?: number | string; maxUnavailable?: number | string };
}
interface ConfigMap extends K8sObject {
  data?: StringMap;
}
interface Ingress extends K8sObject {
  spec: {
    rules?: {
      http?: {
        paths: { path?: string; pathType: string; backend: { service?: { name: string; port: { name?: string; number?: number } } } }[];
      };
    }[];
  };
}
interface Kustomization {
  resources?: string[];
  namespace?: string;
  images?: { name: string; newName?: string; newTag?: string }[];
  patches?: { target?: { kind?: string; name?: string }; patch?: string; path?: string }[];
}

// ---- schemas by apiVersion/kind -------------------------------------------------------------

const K8S_SCHEMA_DIR = path.join(SHARED_DATA, 'k8s-schemas');
const SCHEMA_FILES: Readonly<Record<string, string>> = {
  'apps/v1 Deployment': 'deployment-apps-v1.json',
  'v1 Service': 'service-v1.json',
  'autoscaling/v2 HorizontalPodAutoscaler': 'horizontalpodautoscaler-autoscaling-v2.json',
  'policy/v1 PodDisruptionBudget': 'poddisruptionbudget-policy-v1.json',
  'v1 ConfigMap': 'configmap-v1.json',
  'v1 Secret': 'secret-v1.json',
  'networking.k8s.io/v1 Ingress': 'ingress-networking-v1.json',
};

// ../shared/data/k8s-schemas has no Namespace schema. This one is written from the v1 Namespace
// API (metadata + spec.finalizers), strict like the vendored ones, so a typo still fails.
const DNS_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
const NAMESPACE_SCHEMA: JsonObject = {
  type: 'object',
  additionalProperties: false,
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: { const: 'v1' },
    kind: { const: 'Namespace' },
    metadata: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: { type: 'string', maxLength: 63, pattern: DNS_LABEL },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        annotations: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    spec: {
      type: 'object',
      additionalProperties: false,
      properties: { finalizers: { type: 'array', items: { type: 'string' } } },
    },
  },
};

/** Schema errors for one object; an apiVersion/kind without a schema is itself an error. */
function k8sErrors(value: unknown): string[] {
  if (!isObject(value) || typeof value.apiVersion !== 'string' || typeof value.kind !== 'string') {
    return ['not a Kubernetes object (apiVersion/kind missing)'];
  }
  const key = `${value.apiVersion} ${value.kind}`;
  if (key === 'v1 Namespace') return validationErrors(inlineValidator(NAMESPACE_SCHEMA), value);
  const file = SCHEMA_FILES[key];
  if (!file) return [`unknown kind "${key}": no schema in ${K8S_SCHEMA_DIR}, add one before using it`];
  return validationErrors(schemaValidator(path.join(K8S_SCHEMA_DIR, file)), value);
}

// ---- load ---------------------------------------------------------------------------------

const K8S_DIR = repoPath('k8s');
const BASE_DIR = path.join(K8S_DIR, 'base');
const isKustomization = (file: string): boolean => path.basename(file) === 'kustomization.yaml';

// Components hold custom resources (KEDA ScaledObjects, Prometheus Operator objects), validated
// against their CRD schemas by keda.spec.ts; this file covers the built-in kinds.
const COMPONENTS_DIR = path.join(K8S_DIR, 'components');
const manifestFiles = listFiles(K8S_DIR, ['.yaml', '.yml']).filter((f) => !isKustomization(f) && !f.startsWith(COMPONENTS_DIR + path.sep));
const manifestDocs = manifestFiles.flatMap((file) => loadYaml(file));
const baseObjects = manifestDocs.filter((d) => d.file.startsWith(BASE_DIR + path.sep)).map((d) => d.value as K8sObject);

const ofKind = <T extends K8sObject>(kind: string, objects: readonly K8sObject[] = baseObjects): T[] =>
  objects.filter((o) => o.kind === kind) as T[];
const named = <T extends K8sObject>(kind: string, name: string): T | undefined =>
  ofKind<T>(kind).find((o) => o.metadata.name === name);

const deploymentOf = (s: ServiceName): Deployment => {
  const d = named<Deployment>('Deployment', s);
  if (!d) throw new Error(`no Deployment ${s}`);
  return d;
};
const containerOf = (s: ServiceName): Container => {
  const containers = deploymentOf(s).spec.template.spec.containers;
  const main = containers.find((c) => c.name === s) ?? containers[0];
  return main;
};
/** Resolves a probe/Service port (number or container port name) to a number. */
const resolvePort = (container: Container, port: number | string | undefined): number | undefined =>
  typeof port === 'number' ? port : container.ports?.find((p) => p.name === port)?.containerPort;

const matches = (selector: StringMap | undefined, labels: StringMap | undefined): boolean =>
  !!selector && Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

const configMap = named<ConfigMap>('ConfigMap', 'quarry-config');
// The Secret is created out of band from this file (k8s/README.md, Secrets); nothing in k8s/ ships it.
const secretKeys = Object.keys(readEnvFile(path.join(K8S_DIR, 'quarry-secrets.env.example')));
const shutdownTimeoutMs = Number(configMap?.data?.SHUTDOWN_TIMEOUT_MS ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);

// ---- tests ----------------------------------------------------------------------------------

describe('k8s manifests: JSON Schema (Kubernetes v1.31 standalone-strict)', () => {
  it('finds manifests', () => {
    expect(manifestDocs.length).toBeGreaterThan(20);
  });

  it.each(manifestDocs.map((d) => [`${rel(d.file)}#${d.index}`, d.value] as const))('%s is valid for its kind', (_name, value) => {
    expect(k8sErrors(value)).toEqual([]);
  });

  it('the validators are strict: a misspelt field, a wrong type and an unknown kind all fail', () => {
    const deployment = structuredClone(deploymentOf('gateway')) as unknown as JsonObject;
    const container = (deployment as unknown as Deployment).spec.template.spec.containers[0] as unknown as JsonObject;
    container.imagePullPolicyy = 'Always';
    expect(k8sErrors(deployment).join('\n')).toMatch(/imagePullPolicyy/);

    const hpa = structuredClone(named<Hpa>('HorizontalPodAutoscaler', 'gateway')) as unknown as Hpa;
    (hpa.spec as unknown as JsonObject).maxReplicas = 'lots';
    expect(k8sErrors(hpa)).not.toEqual([]);

    expect(k8sErrors({ apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'x' } })).toEqual([
      expect.stringMatching(/unknown kind/),
    ]);
    expect(k8sErrors({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'Quarry_NS' } })).not.toEqual([]);
  });
});

describe('k8s kustomize layout', () => {
  const baseKustomization = loadSingleYaml(path.join(BASE_DIR, 'kustomization.yaml')) as Kustomization;

  it('base/kustomization.yaml lists every manifest under base/ exactly once, and nothing else', () => {
    const listed = (baseKustomization.resources ?? []).map((r) => path.resolve(BASE_DIR, r));
    expect(new Set(listed).size).toBe(listed.length);
    const onDisk = manifestFiles.filter((f) => f.startsWith(BASE_DIR + path.sep));
    expect([...listed].sort()).toEqual([...onDisk].sort());
  });

  it('the kustomization namespace is the Namespace object, and every namespaced object is in it', () => {
    const namespaces = ofKind('Namespace');
    expect(namespaces.map((n) => n.metadata.name)).toEqual([baseKustomization.namespace]);
    for (const o of baseObjects.filter((x) => x.kind !== 'Namespace')) {
      expect(`${o.kind}/${o.metadata.name} in ${o.metadata.namespace}`).toBe(
        `${o.kind}/${o.metadata.name} in ${baseKustomization.namespace}`,
      );
    }
  });

  it('object names are unique per kind and valid DNS labels', () => {
    const keys = baseObjects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const o of baseObjects) expect(o.metadata.name).toMatch(new RegExp(DNS_LABEL));
  });

  const overlayFiles = listFiles(path.join(K8S_DIR, 'overlays'), ['kustomization.yaml']);
  it.each(overlayFiles.map((f) => [rel(f), f] as const))('%s: resources resolve, images and patches apply, result validates', (_n, file) => {
    const overlay = loadSingleYaml(file) as Kustomization;
    const dir = path.dirname(file);
    for (const resource of overlay.resources ?? []) {
      const target = path.resolve(dir, resource);
      expect(fs.existsSync(target) && (fs.statSync(target).isFile() || fs.existsSync(path.join(target, 'kustomization.yaml')))).toBe(true);
    }
    expect(overlay.resources).toContain('../../base');

    // An `images` entry whose name matches no container image is silently ignored by kustomize.
    const baseImages = new Set(ofKind<Deployment>('Deployment').flatMap((d) => d.spec.template.spec.containers.map((c) => c.image.split(':')[0])));
    for (const image of overlay.images ?? []) expect(baseImages).toContain(image.name);

    const rendered = structuredClone(baseObjects) as unknown as JsonObject[];
    for (const patch of overlay.patches ?? []) {
      expect(patch.patch).toBeDefined();
      const targets = rendered.filter(
        (o) =>
          (!patch.target?.kind || o.kind === patch.target.kind) &&
          (!patch.target?.name || (o.metadata as Metadata).name === patch.target.name),
      );
      // A target that matches nothing is another silent no-op.
      expect(targets).toHaveLength(1);
      const operations = parsePatch(patch.patch ?? '');
      for (const target of targets) applyJsonPatch(target, operations);
    }
    for (const o of rendered) expect([`${String(o.kind)}`, k8sErrors(o)]).toEqual([`${String(o.kind)}`, []]);
  });
});

describe('k8s deployment contract', () => {
  it('every service has exactly one Deployment, Service, HPA and PDB, and there are no others', () => {
    for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget']) {
      expect([kind, ofKind(kind).map((o) => o.metadata.name).sort()]).toEqual([kind, [...SERVICE_NAMES].sort()]);
    }
  });

  describe.each(SERVICE_NAMES)('%s', (service) => {
    const facts = SERVICES[service];

    it('runs its own entry point of the shared image', () => {
      const c = containerOf(service);
      expect([...(c.command ?? []), ...(c.args ?? [])]).toEqual(['node', entryPoint(service)]);
      const images = new Set(SERVICE_NAMES.map((s) => containerOf(s).image));
      expect(images.size).toBe(1);
    });

    it('listens on the documented port, set through the documented variable', () => {
      const c = containerOf(service);
      expect(c.ports?.map((p) => p.containerPort)).toEqual([facts.port]);
      const portVar = c.env?.find((e) => e.name === facts.portEnv);
      expect(portVar?.value).toBe(String(facts.port));
      const other = facts.portEnv === 'PORT' ? 'HTTP_PORT' : 'PORT';
      expect(c.env?.some((e) => e.name === other)).toBe(false);
    });

    it('probes /health/live (startup, liveness) and /health/ready (readiness) on that port', () => {
      const c = containerOf(service);
      for (const [probe, expected] of [
        [c.livenessProbe, HEALTH.live],
        [c.readinessProbe, HEALTH.ready],
        [c.startupProbe, HEALTH.live],
      ] as const) {
        expect(probe?.httpGet?.path).toBe(expected);
        expect(resolvePort(c, probe?.httpGet?.port)).toBe(facts.port);
      }
    });

    it('is annotated for Prometheus scraping on /metrics at the right port', () => {
      const annotations = deploymentOf(service).spec.template.metadata?.annotations ?? {};
      expect(annotations['prometheus.io/scrape']).toBe('true');
      expect(annotations['prometheus.io/port']).toBe(String(facts.port));
      expect(annotations['prometheus.io/path']).toBe(HEALTH.metrics);
    });

    it('gives graceful shutdown more time than SHUTDOWN_TIMEOUT_MS (plus any preStop sleep)', () => {
      const pod = deploymentOf(service).spec.template.spec;
      const preStop = containerOf(service).lifecycle?.preStop;
      const sleepCommand = preStop?.exec?.command;
      const preStopMs =
        (preStop?.sleep?.seconds ?? 0) * 1000 +
        (sleepCommand?.[0] === 'sleep' ? Number(sleepCommand[1]) * 1000 : 0);
      // The default grace (30 s) would be enough for 25 s alone, but must be explicit so raising
      // SHUTDOWN_TIMEOUT_MS fails here instead of SIGKILLing jobs in production.
      expect(pod.terminationGracePeriodSeconds).toBeDefined();
      expect((pod.terminationGracePeriodSeconds ?? 0) * 1000).toBeGreaterThan(shutdownTimeoutMs + preStopMs);
    });

    it('runs as non-root with a read-only root filesystem and a writable emptyDir /tmp', () => {
      const pod = deploymentOf(service).spec.template.spec;
      const c = containerOf(service);
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
      expect(c.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
      expect(c.securityContext?.capabilities?.drop).toContain('ALL');
      expect(c.securityContext?.privileged).not.toBe(true);
      const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
      expect(tmp).toBeDefined();
      expect(pod.volumes?.find((v) => v.name === tmp?.name)?.emptyDir).toBeDefined();
    });

    it('sets CPU and memory requests and limits, with requests <= limits', () => {
      const { requests, limits } = containerOf(service).resources ?? {};
      for (const resource of ['cpu', 'memory']) {
        const request = requests?.[resource];
        const limit = limits?.[resource];
        expect([resource, request !== undefined, limit !== undefined]).toEqual([resource, true, true]);
        expect(parseQuantity(request ?? 0)).toBeLessThanOrEqual(parseQuantity(limit ?? 0));
      }
      // A Node process below ~128Mi spends its time in GC; above a few GiB something leaks.
      expect(parseQuantity(requests?.memory ?? 0)).toBeGreaterThanOrEqual(128 * 2 ** 20);
      expect(parseQuantity(limits?.memory ?? 0)).toBeLessThanOrEqual(4 * 2 ** 30);
    });

    it('selects its own pods from the Deployment, Service and PDB', () => {
      const d = deploymentOf(service);
      const podLabels = d.spec.template.metadata?.labels;
      expect(matches(d.spec.selector.matchLabels, podLabels)).toBe(true);
      expect(matches(named<Service>('Service', service)?.spec.selector, podLabels)).toBe(true);
      expect(matches(named<Pdb>('PodDisruptionBudget', service)?.spec.selector?.matchLabels, podLabels)).toBe(true);
      // And only its own: no other service's pods carry the same selector labels.
      for (const other of SERVICE_NAMES.filter((s) => s !== service)) {
        expect(matches(d.spec.selector.matchLabels, deploymentOf(other).spec.template.metadata?.labels)).toBe(false);
      }
    });

    it('exposes the port through its Service', () => {
      const svc = named<Service>('Service', service);
      expect(svc?.spec.ports).toHaveLength(1);
      const port = svc?.spec.ports[0];
      expect(port?.port).toBe(facts.port);
      expect(resolvePort(containerOf(service), port?.targetPort ?? port?.port)).toBe(facts.port);
    });

    it('autoscales on CPU utilisation, with the documented minimum, and leaves replicas to the HPA', () => {
      const hpa = named<Hpa>('HorizontalPodAutoscaler', service);
      expect(hpa?.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: service });
      expect(hpa?.spec.minReplicas ?? 1).toBeGreaterThanOrEqual(facts.minReplicas);
      expect(hpa?.spec.maxReplicas).toBeGreaterThanOrEqual(hpa?.spec.minReplicas ?? 1);
      expect(hpa?.spec.metrics).toEqual([
        expect.objectContaining({ type: 'Resource', resource: { name: 'cpu', target: expect.objectContaining({ type: 'Utilization' }) as unknown } }),
      ]);
      // A fixed replica count would be re-applied over the HPA's choice on every `kubectl apply`.
      expect(deploymentOf(service).spec.replicas).toBeUndefined();
    });

    it('has a PDB that always allows a voluntary eviction', () => {
      const pdb = named<Pdb>('PodDisruptionBudget', service);
      const min = named<Hpa>('HorizontalPodAutoscaler', service)?.spec.minReplicas ?? 1;
      // minAvailable >= replicas (e.g. 1 of 1) would block node drains forever.
      if (pdb?.spec.minAvailable !== undefined) expect(Number(pdb.spec.minAvailable)).toBeLessThan(min);
      else expect(Number(pdb?.spec.maxUnavailable)).toBeGreaterThanOrEqual(1);
    });

    it('receives only documented variables, credentials only from the Secret', () => {
      const c = containerOf(service);
      const allowed = envOf(service);
      for (const e of c.env ?? []) {
        expect([e.name, allowed.has(e.name)]).toEqual([e.name, true]);
        if (CREDENTIAL_ENV.has(e.name)) {
          expect([e.name, e.value]).toEqual([e.name, undefined]);
          expect(e.valueFrom?.secretKeyRef?.name).toBe(SECRET_NAME);
        }
        const ref = e.valueFrom?.secretKeyRef;
        if (ref) expect(secretKeys).toContain(ref.key);
      }
      for (const source of c.envFrom ?? []) {
        // Whole-Secret imports would hand every API key to every service.
        expect(source.secretRef).toBeUndefined();
        expect(source.configMapRef?.name).toBe(configMap?.metadata.name);
      }
      // Every credential the service reads that the Secret holds is actually wired in.
      const wired = new Set((c.env ?? []).map((e) => e.name));
      for (const key of secretKeys) {
        if (allowed.has(key)) expect([key, wired.has(key)]).toEqual([key, true]);
      }
    });
  });
});

describe('k8s configuration', () => {
  const data = configMap?.data ?? {};

  it('the ConfigMap sets only documented variables and no credentials', () => {
    expect(configMap).toBeDefined();
    for (const key of Object.keys(data)) {
      expect([key, ALL_ENV.has(key)]).toEqual([key, true]);
      expect([key, CREDENTIAL_ENV.has(key)]).toEqual([key, false]);
    }
    // Per-service ports are set in each Deployment, where they must match containerPort.
    expect(data.PORT).toBeUndefined();
    expect(data.HTTP_PORT).toBeUndefined();
  });

  it('no file under k8s/ holds a Secret or a CHANGE_ME placeholder (applied, either would overwrite the real one)', () => {
    const files = listFiles(K8S_DIR, ['.yaml', '.yml']);
    const docs = files.filter((f) => !isKustomization(f)).flatMap((f) => loadYaml(f));
    expect(docs.filter((d) => (d.value as K8sObject).kind === 'Secret').map((d) => rel(d.file))).toEqual([]);
    const kustomizations = files.filter(isKustomization).map((f) => [rel(f), (loadSingleYaml(f) as JsonObject).secretGenerator] as const);
    expect(kustomizations.filter(([, generator]) => generator !== undefined)).toEqual([]);
    expect(files.filter((f) => /CHANGE_ME/i.test(readText(f))).map(rel)).toEqual([]);
  });

  it('the worst-case Postgres connection count fits a default max_connections of 100', () => {
    // Every HPA at max, plus one surge pod per Deployment during a rollout, each with a full pool;
    // 10 connections stay free for admin sessions and superuser_reserved_connections.
    const pool = Number(data.DATABASE_POOL_MAX ?? 10);
    const pods = ofKind<Hpa>('HorizontalPodAutoscaler').reduce((sum, h) => sum + h.spec.maxReplicas + 1, 0);
    expect(pods * pool).toBeLessThanOrEqual(90);
  });
});

describe('k8s memory sizing (k8s/README.md, Sizing notes)', () => {
  const MiB = 2 ** 20;
  // Peak RSS measured per service (MiB; README figures): ingestion's from issue 13 (small files),
  // the others from `npm run bench:ingest` and `bench:query` on Node 24 (VmHWM of each process).
  const MEASURED_PEAK_MIB: Readonly<Record<ServiceName, number>> = { gateway: 343, ingestion: 534, retrieval: 386, agent: 368, 'task-scheduler': 201 };
  const memory = (s: ServiceName) => {
    const { requests, limits } = containerOf(s).resources ?? {};
    return { request: parseQuantity(requests?.memory ?? 0), limit: parseQuantity(limits?.memory ?? 0) };
  };

  it.each(SERVICE_NAMES)('%s: the request holds the measured peak + 10%%, the limit twice the request', (s) => {
    const { request, limit } = memory(s);
    expect(request).toBeGreaterThanOrEqual(MEASURED_PEAK_MIB[s] * 1.1 * MiB);
    expect(limit).toBeGreaterThanOrEqual(2 * request);
  });

  it('ingestion: the limit holds the request plus every parse worker at its heap cap', () => {
    // Each queue job parses in its own worker thread (libs/parsers), so up to WORKER_CONCURRENCY
    // run at once, each with an old generation capped at PARSE_MAX_HEAP_MB; 64 MiB more per worker
    // for its young generation (up to 32 MiB) and code. Read the way the service reads them: the
    // rendered env through its own schema, so a change of either default (or of the ConfigMap)
    // that outgrows the limit fails here.
    const c = containerOf('ingestion');
    const env = { ...configMap?.data, ...Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value])) };
    const config = ENV_SCHEMAS.ingestion.parse(env) as { WORKER_CONCURRENCY: number; PARSE_MAX_HEAP_MB: number };
    expect(config.PARSE_MAX_HEAP_MB).toBeGreaterThan(0);
    const { request, limit } = memory('ingestion');
    expect(limit).toBeGreaterThanOrEqual(request + config.WORKER_CONCURRENCY * (config.PARSE_MAX_HEAP_MB + 64) * MiB);
  });
});

describe('k8s gateway Ingress', () => {
  const ingresses = ofKind<Ingress>('Ingress');
  const ingress = ingresses[0];
  const annotations = ingress?.metadata.annotations ?? {};

  it('routes only /api to the gateway Service port', () => {
    expect(ingresses).toHaveLength(1);
    const paths = (ingress.spec.rules ?? []).flatMap((r) => r.http?.paths ?? []);
    expect(paths.map((p) => p.path)).toEqual(['/api']);
    const backend = paths[0].backend.service;
    expect(backend?.name).toBe('gateway');
    const svcPort = named<Service>('Service', 'gateway')?.spec.ports.find(
      (p) => p.name === backend?.port.name || p.port === backend?.port.number,
    );
    expect(svcPort?.port).toBe(SERVICES.gateway.port);
  });

  it('does not buffer or cut Server-Sent Events', () => {
    expect(annotations['nginx.ingress.kubernetes.io/proxy-buffering']).toBe('off');
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-read-timeout'])).toBeGreaterThanOrEqual(300);
    expect(Number(annotations['nginx.ingress.kubernetes.io/proxy-send-timeout'])).toBeGreaterThanOrEqual(300);
  });

  it('lets through exactly the uploads the gateway accepts (proxy-body-size == MAX_UPLOAD_BYTES)', () => {
    const maxUpload = configMap?.data?.MAX_UPLOAD_BYTES;
    expect(maxUpload).toBeDefined();
    expect(parseNginxSize(annotations['nginx.ingress.kubernetes.io/proxy-body-size'])).toBe(Number(maxUpload));
  });
});

// ---- JSON6902 (only add/replace/remove, which is all the overlays use) --------------------------

interface PatchOperation {
  op: 'add' | 'replace' | 'remove';
  path: string;
  value?: unknown;
}

function parsePatch(text: string): PatchOperation[] {
  const docs = parseYaml(text, 'inline patch');
  if (docs.length !== 1 || !Array.isArray(docs[0])) throw new Error('a JSON6902 patch must be one list of operations');
  return docs[0] as PatchOperation[];
}

function applyJsonPatch(target: JsonObject, operations: readonly PatchOperation[]): void {
  for (const op of operations) {
    const segments = op.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = segments.pop();
    if (last === undefined) throw new Error(`bad patch path ${op.path}`);
    let parent: unknown = target;
    for (const segment of segments) {
      parent = Array.isArray(parent) ? (parent as unknown[])[Number(segment)] : isObject(parent) ? parent[segment] : undefined;
      if (parent === undefined) throw new Error(`patch path ${op.path}: ${segment} does not exist`);
    }
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op.op === 'add') parent.splice(index, 0, op.value);
      else if (index >= parent.length) throw new Error(`patch path ${op.path} does not exist`);
      else if (op.op === 'replace') parent[index] = op.value;
      else parent.splice(index, 1);
    } else if (isObject(parent)) {
      if (op.op !== 'add' && !(last in parent)) throw new Error(`patch path ${op.path} does not exist`);
      if (op.op === 'remove') delete parent[last];
      else parent[last] = op.value;
    } else {
      throw new Error(`patch path ${op.path}: parent is not a container`);
    }
  }
}
