import type { StackKeyRole } from '@quarry/testing';

export type Method = 'GET' | 'POST' | 'DELETE';
/** A route as the OpenAPI document names it: `METHOD /api/path/{param}` (or the OpenAI-compatible `/v1/…`). */
export type RouteKey = `${Method} /api${string}` | `${Method} /v1${string}`;

export interface Reply {
  status: number;
  contentType: string | null;
  /** The body as sent (for an event stream: what arrived before it was closed). */
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: unknown;
  /** Everything the request carried that a response may echo back (path, query, JSON body). */
  sent: string;
}

export interface RequestOptions {
  params?: Record<string, string>;
  query?: string;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  /** Which of the tenant's keys to send (default: the lowest role the route needs). */
  role?: StackKeyRole;
}

/** `GET /api/jobs/{id}` with `{ id }` → `GET`, `/api/jobs/<id>`. */
export function routeTarget(route: RouteKey, params: Record<string, string> = {}): { method: Method; path: string } {
  const [method, template] = route.split(' ') as [Method, string];
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${route}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
  return { method, path };
}

/** The `/api` and `/v1` routes of an OpenAPI document as route keys, the documented-public ones left out. */
export function apiRoutesOf(document: { paths: Record<string, Record<string, unknown>> }, isPublic: (path: string) => boolean): RouteKey[] {
  const routes: RouteKey[] = [];
  for (const [path, operations] of Object.entries(document.paths)) {
    if ((!path.startsWith('/api/') && !path.startsWith('/v1/')) || isPublic(path)) continue;
    for (const method of Object.keys(operations)) routes.push(`${method.toUpperCase() as Method} ${path}` as RouteKey);
  }
  return routes.sort();
}

/** One tenant's view of the gateway: its keys, and requests made with them. */
export class TenantClient {
  constructor(
    private readonly gatewayUrl: () => string,
    readonly tenantId: string,
    readonly keys: Record<StackKeyRole, string>,
  ) {}

  async request(route: RouteKey, options: RequestOptions = {}): Promise<Reply> {
    const { method, path } = routeTarget(route, options.params);
    const url = `${path}${options.query ? `?${options.query}` : ''}`;
    const role = options.role ?? (route.includes('/api/keys') || route.includes('/api/admin/') ? 'admin' : method === 'GET' || route === 'POST /api/query' || route.startsWith('POST /v1/') ? 'read' : 'write');
    const headers: Record<string, string> = { authorization: `Bearer ${this.keys[role]}`, ...options.headers };
    let body: string | FormData | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.form) {
      body = options.form;
    }
    const controller = new AbortController();
    const response = await fetch(`${this.gatewayUrl()}${url}`, { method, headers, body, signal: controller.signal });
    const contentType = response.headers.get('content-type');
    let text: string;
    if (contentType?.startsWith('text/event-stream')) {
      // An open progress stream: what its first events say is enough, then it is closed at once.
      // A streamed answer (POST) is read to its end: all of it must be free of the other tenant.
      text = await readUntil(response, method === 'POST' ? undefined : '\n\n', method === 'POST' ? 30_000 : 5000);
      controller.abort();
    } else {
      text = await response.text();
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, contentType, text, json, sent: `${url} ${typeof body === 'string' ? body : ''}` };
  }
}

/** Reads until the terminator arrives (undefined: until the server ends the stream) or the deadline passes. */
async function readUntil(response: Response, terminator: string | undefined, timeoutMs: number): Promise<string> {
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + timeoutMs;
  let text = '';
  while ((terminator === undefined || !text.includes(terminator)) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel().catch(() => undefined);
  return text;
}

/** The attacks a suite made, by route, so a test can tell which routes were never attacked. */
export class AttackLog {
  readonly routes = new Set<RouteKey>();
  count = 0;

  /** A request by `attacker` aimed at another tenant's resources (or data), recorded under its route. */
  attack(attacker: TenantClient, route: RouteKey, options: RequestOptions = {}): Promise<Reply> {
    this.routes.add(route);
    this.count++;
    return attacker.request(route, options);
  }
}

/**
 * The strings of `secrets` that `reply` carries and its request did not (the id a client asked for
 * comes back in a 404's message; anything else of the other tenant must not).
 */
export function leakedSecrets(reply: Pick<Reply, 'text' | 'sent'>, secrets: readonly string[], alsoAllowed: readonly string[] = []): string[] {
  const body = reply.text.toLowerCase();
  const sent = reply.sent.toLowerCase();
  return secrets.filter((secret) => {
    const needle = secret.toLowerCase();
    return body.includes(needle) && !sent.includes(needle) && !alsoAllowed.some((allowed) => allowed.toLowerCase() === needle);
  });
}

/**
 * An error reply as comparable with another: the correlation id removed and each id the request
 * named replaced by a placeholder, so the answer about another tenant's resource and the answer
 * about one that never existed can be compared as wholes.
 */
export function comparableError(reply: Reply, requestedIds: readonly string[]): { status: number; contentType: string | null; body: unknown } {
  let text = reply.text;
  for (const id of requestedIds) text = text.split(id).join('<id>');
  const body = JSON.parse(text) as { error?: Record<string, unknown> };
  if (body.error) delete body.error.correlationId;
  return { status: reply.status, contentType: reply.contentType, body };
}
