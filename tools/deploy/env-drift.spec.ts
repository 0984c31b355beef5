// Deployment truth: the variables each service reads are the keys of the zod schema its config
// loader parses (ENV_SCHEMAS in deploy-facts.ts). docker-compose.yml and the manifests that
// `kubectl kustomize` renders from k8s/ must pass a service every one of them and nothing else,
// credentials only by reference to the out-of-band Secret, and values the schema accepts.
//
// Not covered: values set at run time (the shell behind compose, the real quarry-secrets).
import * as path from 'node:path';
import {
  ALL_ENV,
  CREDENTIAL_ENV,
  ENV_SCHEMAS,
  REQUIRED_CREDENTIAL_ENV,
  SECRET_NAME,
  SERVICE_NAMES,
  defaultOf,
  envOf,
  type ServiceName,
} from './deploy-facts';
import { isObject, listFiles, loadSingleYaml, readEnvFile, readText, rel, renderKustomize, repoPath } from './deploy-test-support';

const SECRETS_EXAMPLE = repoPath('k8s', 'quarry-secrets.env.example');
const exampleSecrets = readEnvFile(SECRETS_EXAMPLE);

const sorted = (keys: Iterable<string>): string[] => [...keys].sort();

/** The schema's complaints about an environment (`[]` when the service would boot with it). */
function schemaErrors(service: ServiceName, env: Record<string, string | undefined>): string[] {
  const parsed = ENV_SCHEMAS[service].safeParse(env);
  return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('service code reads its environment only through its schema', () => {
  // A variable read straight from process.env would be invisible to every check below. The apps'
  // and libs' sources are searched for such reads; each must be a key of some service's schema.
  // Names the code itself assigns (`env.X ??= ...`: defaults it sets for a library) are not inputs.
  const sources = [
    ...SERVICE_NAMES.map((s) => repoPath('apps', s, 'src')),
    ...listFiles(repoPath('libs'), ['project.json']).map((f) => path.join(path.dirname(f), 'src')).filter((d) => !d.includes(`${path.sep}testing${path.sep}`)),
  ].flatMap((dir) => listFiles(dir, ['.ts']).filter((f) => !/\.(spec|test)\.ts$/.test(f)));

  it('every variable read from the process environment is a schema key', () => {
    expect(sources.length).toBeGreaterThan(50);
    const unread: string[] = [];
    for (const file of sources) {
      const text = readText(file);
      if (!/process\.env|NodeJS\.ProcessEnv/.test(text)) continue;
      const assigned = new Set([...text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)\s*(\?\?|\|\|)?=(?!=)/g)].map((m) => m[1]));
      for (const match of text.matchAll(/\benv(?:\.([A-Z][A-Z0-9_]+)|\[['"]([A-Z][A-Z0-9_]+)['"]\])/g)) {
        const name = match[1] ?? match[2];
        if (!ALL_ENV.has(name) && !assigned.has(name)) unread.push(`${rel(file)}: ${name}`);
      }
    }
    expect(unread).toEqual([]);
  });

  it('the derivation sees what the services read (ingestion: the chat model for document analysis)', () => {
    expect(sorted(envOf('ingestion'))).toEqual(expect.arrayContaining(['LLM_API_KEY', 'LLM_BASE_URL', 'LLM_MODEL', 'PARSE_MAX_HEAP_MB', 'WORKER_CONCURRENCY']));
    expect(sorted(envOf('retrieval'))).toEqual(expect.arrayContaining(['QDRANT_API_KEY', 'VECTOR_BACKEND', 'EMBEDDING_API_KEY']));
    expect(envOf('task-scheduler').has('LLM_API_KEY')).toBe(false);
  });
});

// ---- docker-compose.yml -------------------------------------------------------------------------

type EnvValue = string | number | boolean | null;
const compose = loadSingleYaml(repoPath('docker-compose.yml'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, EnvValue> }>;
};

/**
 * The value a service gets with nothing set in the shell: `NAME:` (null) and a bare `${VAR}` leave
 * it unset; `${VAR:-default}` is the default.
 */
function composeValue(value: EnvValue): string | undefined {
  if (value === null) return undefined;
  const text = String(value);
  if (/^\$\{[A-Z0-9_]+\}$/.test(text)) return undefined;
  return text.replace(/\$\{[A-Z0-9_]+:?-([^}]*)\}/g, '$1').replace(/\$\{[A-Z0-9_]+\}/g, '');
}

describe.each(SERVICE_NAMES)('docker-compose.yml: %s', (service) => {
  const env = compose.services[service]?.environment ?? {};

  it('passes every variable its schema reads', () => {
    expect(sorted(envOf(service)).filter((key) => !(key in env))).toEqual([]);
  });

  it('passes no variable its schema does not read', () => {
    expect(sorted(Object.keys(env)).filter((key) => !envOf(service).has(key))).toEqual([]);
  });

  it('boots with the values written there (nothing set in the shell)', () => {
    expect(schemaErrors(service, Object.fromEntries(Object.entries(env).map(([k, v]) => [k, composeValue(v)])))).toEqual([]);
  });
});

// ---- k8s: what kustomize renders ----------------------------------------------------------------

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string; optional?: boolean }; configMapKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
}
interface K8sObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  spec?: { template?: { spec?: { containers: Container[]; initContainers?: Container[] } } };
}

/** Every `secretKeyRef`, `secretRef` and secret volume anywhere in an object, as `name/key`. */
function secretReferences(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((item) => secretReferences(item, out));
  if (!isObject(node)) return out;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'secretKeyRef' && isObject(value)) out.push(`${String(value.name)}/${String(value.key)}`);
    else if (key === 'secretRef' && isObject(value)) out.push(`${String(value.name)}/*`);
    else if (key === 'secret' && isObject(value)) out.push(`${String(value.secretName)}/*`);
    else secretReferences(value, out);
  }
  return out;
}

describe.each(['k8s/base', 'k8s/overlays/production'])('%s (kubectl kustomize)', (dir) => {
  const { text, objects } = renderKustomize(repoPath(dir));
  const rendered = objects as K8sObject[];
  const configMaps = new Map(rendered.filter((o) => o.kind === 'ConfigMap').map((o) => [o.metadata.name, o.data ?? {}]));
  const deployments = rendered.filter((o) => o.kind === 'Deployment');

  it('ships no Secret and no CHANGE_ME placeholder (applying it cannot overwrite real credentials)', () => {
    expect(rendered.filter((o) => o.kind === 'Secret').map((o) => o.metadata.name)).toEqual([]);
    expect(text).not.toMatch(/CHANGE_ME/i);
  });

  it(`references only ${SECRET_NAME}, by keys of quarry-secrets.env.example`, () => {
    const refs = rendered.flatMap((o) => secretReferences(o));
    expect(refs.length).toBeGreaterThan(0);
    // Whole-Secret imports (secretRef, volumes) would hand every API key to every service.
    for (const ref of refs) expect([ref, ref.startsWith(`${SECRET_NAME}/`) && ref.slice(SECRET_NAME.length + 1) in exampleSecrets]).toEqual([ref, true]);
  });

  it('its ConfigMaps hold only variables some schema reads, and no credentials', () => {
    for (const [name, data] of configMaps) {
      expect([name, sorted(Object.keys(data)).filter((key) => !ALL_ENV.has(key) || CREDENTIAL_ENV.has(key))]).toEqual([name, []]);
    }
  });

  it('has one Deployment per service', () => {
    expect(sorted(deployments.map((d) => d.metadata.name))).toEqual(sorted(SERVICE_NAMES));
  });

  describe.each(SERVICE_NAMES)('%s', (service) => {
    const deployment = deployments.find((d) => d.metadata.name === service);
    const pod = deployment?.spec?.template?.spec;
    const containers = [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])];
    const main = pod?.containers.find((c) => c.name === service) ?? pod?.containers[0];
    const explicit = new Map((main?.env ?? []).map((e) => [e.name, e]));
    const imported = (main?.envFrom ?? []).flatMap((source) => (source.configMapRef ? [source.configMapRef.name] : []));

    it('receives every variable its schema reads', () => {
      // envFrom imports the whole ConfigMap, so a setting an operator adds there reaches the
      // service: every non-credential is passed by the import. Credentials cannot travel that way
      // (a ConfigMap is not secret) and need their own secretKeyRef in this Deployment.
      expect(imported.length).toBeGreaterThan(0);
      const passed = (key: string): boolean => explicit.has(key) || (!CREDENTIAL_ENV.has(key) && imported.length > 0);
      expect(sorted(envOf(service)).filter((key) => !passed(key))).toEqual([]);
    });

    it('receives no variable its schema does not read', () => {
      expect(containers.flatMap((c) => (c.env ?? []).map((e) => e.name)).filter((key) => !envOf(service).has(key))).toEqual([]);
    });

    it(`takes its credentials from ${SECRET_NAME} only, optional unless the service cannot start without them`, () => {
      for (const key of sorted(envOf(service)).filter((k) => CREDENTIAL_ENV.has(k))) {
        const ref = explicit.get(key)?.valueFrom?.secretKeyRef;
        expect([key, ref?.name, ref?.key, ref?.optional === true]).toEqual([key, SECRET_NAME, key, !REQUIRED_CREDENTIAL_ENV.has(key)]);
        expect([key, explicit.get(key)?.value]).toEqual([key, undefined]);
      }
    });

    it('boots with the rendered values (quarry-secrets filled from the example file)', () => {
      const env: Record<string, string | undefined> = {};
      for (const name of imported) Object.assign(env, configMaps.get(name));
      for (const e of main?.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        const mapRef = e.valueFrom?.configMapKeyRef;
        env[e.name] = ref ? exampleSecrets[ref.key] : mapRef ? configMaps.get(mapRef.name)?.[mapRef.key] : e.value;
      }
      expect(imported.every((name) => configMaps.has(name))).toBe(true);
      expect(schemaErrors(service, env)).toEqual([]);
    });
  });
});

describe('k8s/quarry-secrets.env.example', () => {
  it('lists exactly the credentials the services read', () => {
    expect(sorted(Object.keys(exampleSecrets))).toEqual(sorted([...CREDENTIAL_ENV].filter((key) => ALL_ENV.has(key))));
  });

  it('documents the out-of-band Secret in k8s/README.md', () => {
    expect(readText(repoPath('k8s', 'README.md'))).toContain(`kubectl create secret generic ${SECRET_NAME} -n quarry --from-env-file=`);
  });
});

describe('README.md environment table', () => {
  // Rows are `| `A`, `B` | `a`, `b` | used by | meaning |` between "## Configuration" and the next section.
  const section = /\n## Configuration\n([\s\S]*?)\n## /.exec(readText(repoPath('README.md')))?.[1] ?? '';
  const rows = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|').map((cell) => cell.trim()))
    .map(([, names, defaults, usedBy]) => ({ names: [...names.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]), defaults, usedBy }));
  const readers = (key: string): ServiceName[] => SERVICE_NAMES.filter((s) => envOf(s).has(key));

  it('lists every variable some service reads, once, and no other', () => {
    const listed = rows.flatMap((row) => row.names);
    expect(listed.filter((key, index) => listed.indexOf(key) !== index)).toEqual([]);
    expect(sorted(ALL_ENV).filter((key) => !listed.includes(key))).toEqual([]);
    expect(listed.filter((key) => !ALL_ENV.has(key))).toEqual([]);
  });

  it('names only services that read the variable, and its schema default', () => {
    for (const { names, defaults, usedBy } of rows) {
      const services = usedBy === 'all' || usedBy === 'workers' ? SERVICE_NAMES : (usedBy.split(',').map((s) => s.trim()) as ServiceName[]);
      for (const key of names) expect([key, services.filter((s) => !readers(key).includes(s))]).toEqual([key, []]);
      // One backticked default per name (`3001`…`3004` style ranges and prose are not compared).
      const values = defaults === '–' ? names.map(() => undefined) : [...defaults.matchAll(/`([^`]*)`/g)].map((m) => m[1]);
      if (values.length !== names.length || !/^(–|`[^`]*`(, `[^`]*`)*)( \(.*\))?$/.test(defaults)) continue;
      names.forEach((key, index) => {
        expect([key, values[index]]).toEqual([key, defaultOf(readers(key)[0], key)]);
      });
    }
  });
});
