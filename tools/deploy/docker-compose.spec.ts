// Validates docker-compose.yml against the Compose Specification schema (the one `docker compose
// config` uses) and against the deployment contract in deploy-facts.ts.
//
// Not covered: there is no Docker engine here, so nothing is started; interpolation (`${VAR:-x}`)
// is checked as text, the way the schema sees it, not as Compose would resolve it.
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  HEALTH,
  SECRET_ENV,
  SERVICES,
  SERVICE_NAMES,
  entryPoint,
  envOf,
  type ServiceName,
} from './deploy-facts';
import {
  REPO_ROOT,
  SHARED_DATA,
  isObject,
  loadSingleYaml,
  parseDurationMs,
  repoPath,
  schemaValidator,
  validationErrors,
  type JsonObject,
} from './deploy-test-support';

type EnvValue = string | number | boolean | null;
interface ComposeService {
  image?: string;
  build?: { context?: string; dockerfile?: string } | string;
  command?: string[] | string;
  environment?: Record<string, EnvValue> | string[];
  ports?: (string | { target: number; published?: string | number })[];
  expose?: (string | number)[];
  healthcheck?: { test?: string[] | string; disable?: boolean };
  depends_on?: Record<string, { condition: string }> | string[];
  stop_grace_period?: string;
  user?: string;
  read_only?: boolean;
  tmpfs?: string[] | string;
  volumes?: (string | { type: string; source?: string; target: string })[];
  profiles?: string[];
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const COMPOSE_FILE = repoPath('docker-compose.yml');
// Compose resolves `<<` merge keys; the schema sees the merged result.
const raw = loadSingleYaml(COMPOSE_FILE, { merge: true });
const compose = raw as ComposeFile;
const validate = schemaValidator(path.join(SHARED_DATA, 'compose-schema', 'compose-spec.json'));

const service = (name: string): ComposeService => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};
const environment = (s: ComposeService): Record<string, EnvValue> => {
  if (Array.isArray(s.environment)) {
    return Object.fromEntries(s.environment.map((e) => [e.split('=')[0], e.includes('=') ? e.slice(e.indexOf('=') + 1) : null]));
  }
  return s.environment ?? {};
};
const dependsOn = (s: ComposeService): Record<string, { condition: string }> =>
  Array.isArray(s.depends_on)
    ? Object.fromEntries(s.depends_on.map((d) => [d, { condition: 'service_started' }]))
    : (s.depends_on ?? {});
const healthTest = (s: ComposeService): string =>
  Array.isArray(s.healthcheck?.test) ? s.healthcheck.test.join(' ') : (s.healthcheck?.test ?? '');

describe('docker-compose.yml: Compose Specification schema', () => {
  it('is valid', () => {
    expect(validationErrors(validate, raw)).toEqual([]);
  });

  it('the validator is strict: a misspelt service key or a bad depends_on condition fails', () => {
    const typo = structuredClone(raw) as { services: Record<string, JsonObject> };
    typo.services.gateway.healthchek = typo.services.gateway.healthcheck;
    expect(validationErrors(validate, typo).join('\n')).toMatch(/additional properties/);

    const badCondition = structuredClone(raw) as { services: Record<string, { depends_on: Record<string, JsonObject> }> };
    badCondition.services.gateway.depends_on.postgres.condition = 'service_ready';
    expect(validationErrors(validate, badCondition)).not.toEqual([]);
  });
});

describe('docker-compose.yml: stack wiring', () => {
  it('runs Postgres 16+, Redis 7 and Qdrant next to the five services', () => {
    const major = (image: string | undefined): number => Number(/:(\d+)/.exec(image ?? '')?.[1]);
    expect(major(service('postgres').image)).toBeGreaterThanOrEqual(16);
    expect(major(service('redis').image)).toBe(7);
    expect(service('qdrant').image).toMatch(/^qdrant\/qdrant:v\d+\.\d+\.\d+$/);
    for (const s of SERVICE_NAMES) expect(compose.services[s]).toBeDefined();
  });

  it('every depends_on target exists, and service_healthy targets define a healthcheck', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [target, { condition }] of Object.entries(dependsOn(s))) {
        expect([name, target, compose.services[target] !== undefined]).toEqual([name, target, true]);
        if (condition === 'service_healthy') {
          expect([target, healthTest(compose.services[target]).length > 0]).toEqual([target, true]);
        }
      }
    }
  });

  it('the dependency graph has no cycle', () => {
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (name: string, trail: string[]): void => {
      if (state.get(name) === 'done') return;
      if (state.get(name) === 'visiting') throw new Error(`depends_on cycle: ${[...trail, name].join(' -> ')}`);
      state.set(name, 'visiting');
      for (const target of Object.keys(dependsOn(service(name)))) visit(target, [...trail, name]);
      state.set(name, 'done');
    };
    expect(() => Object.keys(compose.services).forEach((n) => visit(n, []))).not.toThrow();
  });

  it('named volumes are declared and bind-mounted files exist', () => {
    for (const [name, s] of Object.entries(compose.services)) {
      for (const volume of s.volumes ?? []) {
        const source = typeof volume === 'string' ? volume.split(':')[0] : (volume.source ?? '');
        if (source.startsWith('.') || source.startsWith('/')) {
          expect([name, source, fs.existsSync(path.resolve(REPO_ROOT, source))]).toEqual([name, source, true]);
        } else {
          expect([name, source, compose.volumes?.[source] !== undefined]).toEqual([name, source, true]);
        }
      }
    }
  });

  it('only the gateway publishes a port to the host, on its documented port', () => {
    const published = SERVICE_NAMES.filter((s) => (service(s).ports ?? []).length > 0);
    expect(published).toEqual(['gateway']);
    const target = (service('gateway').ports ?? []).map((p) => (typeof p === 'string' ? Number(p.split(':').pop()) : p.target));
    expect(target).toEqual([SERVICES.gateway.port]);
  });

  it('retrieval runs the embedded index, with the Qdrant container wired for when it is selected', () => {
    const env = environment(service('retrieval'));
    // Switchable from the shell (VECTOR_BACKEND=qdrant), embedded by default.
    expect(env.VECTOR_BACKEND).toBe('${VECTOR_BACKEND:-embedded}');
    expect(env.QDRANT_URL).toBe('http://qdrant:6333');
    expect(dependsOn(service('retrieval')).qdrant?.condition).toBe('service_healthy');
  });

  it('ingestion and retrieval embed with identical EMBEDDING_* settings', () => {
    const embedding = (s: ServiceName): Record<string, EnvValue> =>
      Object.fromEntries(Object.entries(environment(service(s))).filter(([k]) => k.startsWith('EMBEDDING_')));
    expect(Object.keys(embedding('ingestion')).length).toBeGreaterThan(0);
    expect(embedding('retrieval')).toEqual(embedding('ingestion'));
  });
});

describe.each(SERVICE_NAMES)('docker-compose.yml: %s', (name) => {
  const s = service(name);
  const facts = SERVICES[name];
  const env = environment(s);

  it('runs its entry point from the shared deploy/Dockerfile image', () => {
    expect(s.command).toEqual(['node', entryPoint(name)]);
    expect(s.image).toBe(service('gateway').image);
    expect(typeof s.build === 'object' ? s.build.dockerfile : undefined).toBe('deploy/Dockerfile');
  });

  it('sets only documented variables, and its port through the documented one', () => {
    const allowed = envOf(name);
    for (const key of Object.keys(env)) expect([key, allowed.has(key)]).toEqual([key, true]);
    expect(env[facts.portEnv]).toBe(String(facts.port));
  });

  it('never writes a secret value into the file (pass-through or ${VAR} only)', () => {
    for (const key of Object.keys(env).filter((k) => SECRET_ENV.has(k))) {
      const value = env[key];
      expect([key, value === null || /^\$\{[A-Z0-9_]+(:?-)?\}$/.test(String(value))]).toEqual([key, true]);
    }
  });

  it('reports healthy via /health/ready on its own port', () => {
    const test = healthTest(s);
    expect(test).toContain(`:${facts.port}${HEALTH.ready}`);
    expect(s.healthcheck?.disable).not.toBe(true);
  });

  it('starts after Postgres and Redis are healthy', () => {
    const deps = dependsOn(s);
    expect(deps.postgres?.condition).toBe('service_healthy');
    expect(deps.redis?.condition).toBe('service_healthy');
  });

  it('gives graceful shutdown more time than SHUTDOWN_TIMEOUT_MS', () => {
    const timeout = Number(env.SHUTDOWN_TIMEOUT_MS ?? DEFAULT_SHUTDOWN_TIMEOUT_MS);
    expect(s.stop_grace_period).toBeDefined();
    expect(parseDurationMs(s.stop_grace_period ?? '0s')).toBeGreaterThan(timeout);
  });

  it('runs as non-root on a read-only root filesystem with a tmpfs /tmp', () => {
    expect(s.user).toMatch(/^[1-9]\d*(:\d+)?$/);
    expect(s.read_only).toBe(true);
    expect([s.tmpfs].flat()).toContain('/tmp');
  });
});

describe('docker-compose.yml: non-Quarry services', () => {
  it('are only infrastructure or opt-in profiles', () => {
    const others = Object.entries(compose.services).filter(([n]) => !(SERVICE_NAMES as string[]).includes(n));
    for (const [name, s] of others) {
      const optional = (s.profiles ?? []).length > 0;
      expect([name, optional || ['postgres', 'redis', 'qdrant'].includes(name)]).toEqual([name, true]);
    }
    expect(isObject(compose.volumes)).toBe(true);
  });
});
