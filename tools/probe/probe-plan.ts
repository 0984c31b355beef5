/**
 * What the tenancy probe sends: a weighted mix of request kinds, each a route aimed either at
 * another tenant's resources (an attack) or at the sender's own (a control, which must succeed).
 * Pure and seeded, so a run can be repeated exactly (`--seed`).
 */

export type RouteKey = `${'GET' | 'POST' | 'DELETE'} /${'api' | 'v1'}/${string}`;

export const ATTACK_KINDS = [
  'get-document',
  'delete-document',
  'get-job',
  'job-events',
  'cancel-job',
  'revoke-key',
  'list-documents',
  'list-keys',
  'query-conversation',
  'query-documents',
  'upload',
  'upload-batch',
  'create-key',
  'cache-stats',
  'query-openai',
  'openai-models',
  'list-conversations',
  'get-conversation',
  'delete-conversation',
  'get-query-trace',
  'get-query-report',
  'get-task',
  'cancel-task',
  'task-events',
  'list-tasks',
  'task-stats',
  'submit-task',
  'analytics-queries',
  'analytics-documents',
  'analytics-system',
  'system-alerts',
] as const;
export type AttackKind = (typeof ATTACK_KINDS)[number];

export const CONTROL_KINDS = [
  'get-document',
  'get-job',
  'job-events',
  'list-documents',
  'list-keys',
  'query-documents',
  'query-conversation',
  'key-cycle',
  'list-conversations',
  'get-conversation',
  'get-task',
  'list-tasks',
  'analytics-queries',
] as const;
export type ControlKind = (typeof CONTROL_KINDS)[number];

/** The routes each kind sends to (a key cycle creates a key and revokes it). */
export const ROUTES_OF: Record<AttackKind | ControlKind, RouteKey[]> = {
  'get-document': ['GET /api/documents/{id}'],
  'delete-document': ['DELETE /api/documents/{id}'],
  'get-job': ['GET /api/jobs/{id}'],
  'job-events': ['GET /api/jobs/{id}/events'],
  'cancel-job': ['POST /api/jobs/{id}/cancel'],
  'revoke-key': ['DELETE /api/keys/{id}'],
  'list-documents': ['GET /api/documents'],
  'list-keys': ['GET /api/keys'],
  'query-conversation': ['POST /api/query'],
  'query-documents': ['POST /api/query'],
  upload: ['POST /api/documents'],
  'upload-batch': ['POST /api/documents/batch'],
  'create-key': ['POST /api/keys'],
  'cache-stats': ['GET /api/admin/cache/stats'],
  'query-openai': ['POST /v1/chat/completions'],
  'openai-models': ['GET /v1/models'],
  'list-conversations': ['GET /api/conversations'],
  'get-conversation': ['GET /api/conversations/{id}'],
  'delete-conversation': ['DELETE /api/conversations/{id}'],
  'get-query-trace': ['GET /api/queries/{id}/trace'],
  'get-query-report': ['GET /api/queries/{id}/report'],
  'get-task': ['GET /api/tasks/{id}'],
  'cancel-task': ['POST /api/tasks/{id}/cancel'],
  'task-events': ['GET /api/tasks/{id}/events'],
  'list-tasks': ['GET /api/tasks'],
  'task-stats': ['GET /api/tasks/stats'],
  'submit-task': ['POST /api/tasks'],
  'analytics-queries': ['GET /api/analytics/queries'],
  'analytics-documents': ['GET /api/analytics/documents'],
  'analytics-system': ['GET /api/analytics/system'],
  'system-alerts': ['GET /api/system/alerts'],
  'key-cycle': ['POST /api/keys', 'DELETE /api/keys/{id}'],
};

/**
 * Relative weights. Most probes are cheap reads, deletes and cancels; about 5% are questions (each
 * costs a trip through agent and retrieval) and a few uploads; about 15% are controls.
 */
export const ATTACK_WEIGHTS: Record<AttackKind, number> = {
  'get-document': 160,
  'delete-document': 120,
  'get-job': 110,
  'job-events': 80,
  'cancel-job': 100,
  'revoke-key': 80,
  'list-documents': 40,
  'list-keys': 30,
  'query-conversation': 22,
  'query-documents': 20,
  upload: 3,
  'upload-batch': 2,
  'create-key': 5,
  'cache-stats': 5,
  'query-openai': 8,
  'openai-models': 5,
  'list-conversations': 20,
  'get-conversation': 60,
  'delete-conversation': 50,
  'get-query-trace': 40,
  'get-query-report': 30,
  'get-task': 40,
  'cancel-task': 40,
  'task-events': 20,
  'list-tasks': 15,
  'task-stats': 5,
  'submit-task': 15,
  'analytics-queries': 5,
  'analytics-documents': 5,
  'analytics-system': 5,
  'system-alerts': 5,
};
export const CONTROL_WEIGHTS: Record<ControlKind, number> = {
  'get-document': 40,
  'get-job': 30,
  'job-events': 25,
  'list-documents': 20,
  'list-keys': 12,
  'query-documents': 7,
  'query-conversation': 5,
  'key-cycle': 4,
  'list-conversations': 6,
  'get-conversation': 8,
  'get-task': 8,
  'list-tasks': 4,
  'analytics-queries': 3,
};

export type PlannedRequest =
  | { control: false; kind: AttackKind; actor: number; target: number; nameTarget: boolean; pick: number }
  | { control: true; kind: ControlKind; actor: number; target: number; nameTarget: false; pick: number };

/** mulberry32: a small, fast, seeded generator of floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pickWeighted<K extends string>(weights: Record<K, number>, random: () => number): K {
  const entries = Object.entries(weights) as Array<[K, number]>;
  const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
  let point = random() * total;
  for (const [kind, weight] of entries) {
    point -= weight;
    if (point < 0) return kind;
  }
  return entries[entries.length - 1][0];
}

const sum = (weights: Record<string, number>) => Object.values(weights).reduce((total, weight) => total + weight, 0);
/** The share of controls in a plan (the rest are attacks). */
export const CONTROL_SHARE = sum(CONTROL_WEIGHTS) / (sum(CONTROL_WEIGHTS) + sum(ATTACK_WEIGHTS));

/**
 * `count` requests among `tenants` tenants. An attack's target is never its actor; half the attacks
 * also name the target in an `x-tenant-id` header (which must change nothing). `pick` chooses the
 * resource of the target (documents, jobs, keys, conversations) when the request is sent.
 */
export function planRequests(count: number, tenants: number, random: () => number): PlannedRequest[] {
  if (tenants < 2) throw new Error('the probe needs at least two tenants');
  const plan: PlannedRequest[] = [];
  for (let index = 0; index < count; index++) {
    const actor = Math.floor(random() * tenants);
    const pick = Math.floor(random() * 1_000_000);
    if (random() < CONTROL_SHARE) {
      plan.push({ control: true, kind: pickWeighted(CONTROL_WEIGHTS, random), actor, target: actor, nameTarget: false, pick });
    } else {
      const target = (actor + 1 + Math.floor(random() * (tenants - 1))) % tenants;
      plan.push({ control: false, kind: pickWeighted(ATTACK_WEIGHTS, random), actor, target, nameTarget: random() < 0.5, pick });
    }
  }
  return plan;
}

/** Every route some attack kind aims at another tenant. */
export const ATTACKED_ROUTES: ReadonlySet<RouteKey> = new Set(ATTACK_KINDS.flatMap((kind) => ROUTES_OF[kind]));

/** The served /api routes (OpenAPI `paths`) no attack kind covers, the documented-public ones aside. */
export function unprobedRoutes(paths: Record<string, Record<string, unknown>>, isPublic: (path: string) => boolean): RouteKey[] {
  const missing: RouteKey[] = [];
  for (const [path, operations] of Object.entries(paths)) {
    if ((!path.startsWith('/api/') && !path.startsWith('/v1/')) || isPublic(path)) continue;
    for (const method of Object.keys(operations)) {
      const route = `${method.toUpperCase()} ${path}` as RouteKey;
      if (!ATTACKED_ROUTES.has(route)) missing.push(route);
    }
  }
  return missing.sort();
}

export interface ProbeArgs {
  requests: number;
  concurrency: number;
  tenants: number;
  seed: number;
}

/** `--requests N --concurrency N --tenants N --seed N` (also `--name=value`). */
export function parseProbeArgs(argv: readonly string[], defaultSeed: number): ProbeArgs {
  const args: ProbeArgs = { requests: 10_000, concurrency: 16, tenants: 4, seed: defaultSeed };
  for (let index = 0; index < argv.length; index++) {
    const [flag, inline] = argv[index].split('=', 2);
    const name = flag.replace(/^--/, '');
    if (!(name in args) || !flag.startsWith('--')) throw new Error(`unknown option ${argv[index]} (known: --requests, --concurrency, --tenants, --seed)`);
    const raw = inline ?? argv[++index];
    const value = Number(raw);
    if (raw === undefined || !Number.isInteger(value) || value < (name === 'seed' ? 0 : 1)) throw new Error(`--${name} needs a positive integer, got ${raw}`);
    args[name as keyof ProbeArgs] = value;
  }
  if (args.tenants < 2) throw new Error('--tenants must be at least 2');
  return args;
}
