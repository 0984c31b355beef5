import type { AttackKind, ControlKind } from './probe-plan';

/** What identifies one tenant's data: planted markers, its id, every id and name of its rows. */
export interface TenantSecrets {
  tenantId: string;
  strings: readonly string[];
}

/** One request the probe sent and what came back. */
export interface Exchange {
  actor: string;
  status: number;
  /** The body (for an event stream: what arrived before it was closed). */
  body: string;
  /** What the request carried that an answer may legitimately echo (path, query, JSON body). */
  sent: string;
  /** Secrets the actor legitimately holds (the hashes of other tenants' bytes it uploaded itself). */
  held?: readonly string[];
}

/**
 * The statuses an attack may get: an id of another tenant is an unknown id (404; an event stream
 * may also be refused by the actor's own stream quota, 429). Routes that work on the actor's own
 * data answer as usual, and their bodies are what is checked.
 */
export const ATTACK_STATUSES: Record<AttackKind, readonly number[]> = {
  'get-document': [404],
  'delete-document': [404],
  'get-job': [404],
  'job-events': [404, 429],
  'cancel-job': [404],
  'revoke-key': [404],
  'query-conversation': [404],
  'query-documents': [200],
  'list-documents': [200],
  'list-keys': [200],
  upload: [200, 202],
  'upload-batch': [202],
  'create-key': [201],
  'cache-stats': [200],
  'query-openai': [200],
  'openai-models': [200],
  'list-conversations': [200],
  'get-conversation': [404],
  'delete-conversation': [404],
  'get-query-trace': [404],
  'get-query-report': [404],
  'get-task': [404],
  'cancel-task': [404],
  'task-events': [404, 429],
  'list-tasks': [200],
  'task-stats': [200],
  // A dependency on another tenant's task is refused like one on a task that never was.
  'submit-task': [400],
  // The caller's own tenant's figures, or the installation's counts: whatever the headers name.
  'analytics-queries': [200],
  'analytics-documents': [200],
  'analytics-system': [200],
  'system-alerts': [200],
};

export const CONTROL_STATUSES: Record<ControlKind, readonly number[]> = {
  'get-document': [200],
  'get-job': [200],
  'job-events': [200],
  'list-documents': [200],
  'list-keys': [200],
  'query-documents': [200],
  'query-conversation': [200],
  'key-cycle': [201, 204],
  'list-conversations': [200],
  'get-conversation': [200],
  'get-task': [200],
  'list-tasks': [200],
  'analytics-queries': [200],
};

/** The other tenants' secrets the body carries and the request did not (an id asked about comes back in a 404). */
export function foreignSecretsIn(exchange: Exchange, secrets: readonly TenantSecrets[]): string[] {
  const body = exchange.body.toLowerCase();
  const sent = exchange.sent.toLowerCase();
  const found: string[] = [];
  for (const tenant of secrets) {
    if (tenant.tenantId === exchange.actor) continue;
    for (const secret of tenant.strings) {
      const needle = secret.toLowerCase();
      if (body.includes(needle) && !sent.includes(needle) && !exchange.held?.some((held) => held.toLowerCase() === needle)) found.push(`${tenant.tenantId}:${secret}`);
    }
  }
  return found;
}

function parsed(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

/** Document ids an answer cites. */
export function citedDocuments(body: string): string[] {
  const reply = parsed(body) as { citations?: Array<{ documentId?: unknown }> } | undefined;
  return (reply?.citations ?? []).map((citation) => String(citation.documentId));
}

/**
 * Why an attack's answer is a hit (empty: it is not): a status the route must not give another
 * tenant (a 2xx on another tenant's resource, a 5xx, a 409 that tells the job exists), any secret of
 * another tenant in the body, or an answer citing documents that are not the actor's.
 */
export function judgeAttack(kind: AttackKind, exchange: Exchange, secrets: readonly TenantSecrets[], actorDocuments: ReadonlySet<string>): string[] {
  const reasons: string[] = [];
  if (!ATTACK_STATUSES[kind].includes(exchange.status)) reasons.push(`status ${exchange.status} (expected ${ATTACK_STATUSES[kind].join(' or ')})`);
  const leaked = foreignSecretsIn(exchange, secrets);
  if (leaked.length > 0) reasons.push(`body carries ${leaked.join(', ')}`);
  if (kind === 'query-documents' || kind === 'query-conversation' || kind === 'query-openai') {
    const foreign = citedDocuments(exchange.body).filter((id) => !actorDocuments.has(id));
    if (foreign.length > 0) reasons.push(`cites documents not the actor's: ${foreign.join(', ')}`);
  }
  return reasons;
}

/**
 * Why a control (a request on the actor's own data) failed, or undefined: it must get its usual
 * status and show the actor's own data (one of `expected`, e.g. its marker or the id asked for),
 * and, like every answer, nothing of another tenant.
 */
export function judgeControl(kind: ControlKind, exchange: Exchange, secrets: readonly TenantSecrets[], expected: readonly string[]): string | undefined {
  if (!CONTROL_STATUSES[kind].includes(exchange.status)) return `status ${exchange.status}: ${exchange.body.slice(0, 200)}`;
  if (expected.length > 0 && !expected.some((text) => exchange.body.includes(text))) return `the answer shows none of ${expected.join(', ')}: ${exchange.body.slice(0, 200)}`;
  const leaked = foreignSecretsIn(exchange, secrets);
  return leaked.length > 0 ? `body carries ${leaked.join(', ')}` : undefined;
}
