import { z } from 'zod';
import { componentRegistry } from './component-schemas';
import { ERROR_RESPONSES, codesOfStatus } from './error-responses';
import { type Access, type ErrorStatus, type RequestBodyDoc, type ResolvedRoute, type ResponseDoc, type RouteDoc, resolveRoute } from './route-doc';

type Json = Record<string, unknown>;

export interface OpenApiDocument extends Json {
  openapi: '3.1.0';
  info: Json & { title: string; version: string };
  paths: Record<string, Record<string, Json>>;
  components: Json & { schemas: Record<string, Json>; responses: Record<string, Json> };
}

export interface DocumentSettings {
  version: string;
  /** The tenant header of AUTH_MODE=trusted-header, for the description. */
  trustedHeader?: string;
}

// OpenAPI 3.1 schema objects are JSON Schema 2020-12.
const TARGET = 'draft-2020-12';
const SCHEMA_REF = (id: string) => `#/components/schemas/${id}`;
const CORRELATION = 'CorrelationId';
const EXAMPLE_CORRELATION_ID = 'c0ffee00-1234-4abc-8def-0123456789ab';

/** A zod schema as a JSON Schema (the request side with `io: 'input'`: defaults are optional, coercions show what is sent). */
function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): Json {
  const json = z.toJSONSchema(schema, { target: TARGET, io }) as Json;
  delete json.$schema;
  return json;
}

function firstExample(json: Json): unknown {
  return Array.isArray(json.examples) ? json.examples[0] : undefined;
}

/** A parameter carries its description and example itself (that is where UIs show them). */
function parameter(name: string, location: 'path' | 'query', json: Json, required: boolean): Json {
  const { description, examples, ...schema } = json;
  const example: unknown = Array.isArray(examples) ? examples[0] : undefined;
  return { name, in: location, required, ...(description ? { description } : {}), schema, ...(example === undefined ? {} : { example }) };
}

function parametersOf(route: ResolvedRoute): Json[] {
  const parameters: Json[] = [];
  for (const [name, schema] of Object.entries(route.pathParams ?? {})) parameters.push(parameter(name, 'path', jsonSchemaOf(schema, 'input'), true));
  if (route.query) {
    const query = jsonSchemaOf(route.query, 'input');
    const required = new Set(Array.isArray(query.required) ? (query.required as string[]) : []);
    for (const [name, json] of Object.entries((query.properties ?? {}) as Record<string, Json>)) parameters.push(parameter(name, 'query', json, required.has(name)));
  }
  if (route.correlated !== false) parameters.push({ $ref: `#/components/parameters/${CORRELATION}` });
  return parameters;
}

function requestBodyOf(body: RequestBodyDoc): Json {
  if ('json' in body) {
    const schema = jsonSchemaOf(body.json, 'input');
    const example = firstExample(schema);
    return {
      required: true,
      ...(body.description ? { description: body.description } : {}),
      content: { 'application/json': { schema, ...(example === undefined ? {} : { example }) } },
    };
  }
  return {
    required: true,
    ...(body.description ? { description: body.description } : {}),
    content: { 'multipart/form-data': { schema: jsonSchemaOf(body.multipart, 'input'), ...(body.encoding ? { encoding: body.encoding } : {}) } },
  };
}

function roleLine(access: Access): string {
  switch (access) {
    case 'public':
      return 'Public: no key needed.';
    case 'read':
      return 'Needs a key of any role (`read`, `write` or `admin`).';
    case 'write':
      return 'Needs a key with role `write` or `admin`.';
    case 'admin':
      return 'Needs a key with role `admin`.';
  }
}

/** The errors every route of its kind can answer, besides those it lists. */
function implicitErrors(access: Access): ErrorStatus[] {
  if (access === 'public') return [500];
  // Every /api request is authenticated (401), rate limited per key (429) and may meet an outage (503).
  return [401, ...(access === 'read' ? [] : [403 as const]), 429, 500, 503];
}

class DocumentBuilder {
  private readonly registry = componentRegistry();
  readonly schemas: Record<string, Json>;

  constructor() {
    const { schemas } = z.toJSONSchema(this.registry, { target: TARGET, io: 'output', uri: SCHEMA_REF });
    if ('__shared' in schemas) throw new Error('a schema is shared between components without a name of its own: add it to COMPONENT_SCHEMAS');
    this.schemas = Object.fromEntries(
      Object.entries(schemas).map(([id, json]) => {
        const { $id: _id, $schema: _schema, ...rest } = json as Json;
        return [id, rest];
      }),
    );
  }

  /** A component schema is referenced; any other is inlined. */
  responseSchema(schema: z.ZodType): Json {
    const id = this.registry.get(schema)?.id;
    return id ? { $ref: SCHEMA_REF(id) } : jsonSchemaOf(schema, 'output');
  }

  response(doc: ResponseDoc, correlated: boolean): Json {
    const headers = { ...(correlated ? { 'x-correlation-id': { $ref: `#/components/headers/${CORRELATION}` } } : {}), ...doc.headers };
    let content: Json | undefined = doc.content;
    if (doc.json) content = { 'application/json': { schema: this.responseSchema(doc.json) } };
    // A route may answer JSON or, when asked, an event stream (POST /api/query).
    if (doc.events) content = { ...content, 'text/event-stream': this.eventStream(doc.events) };
    return { description: doc.description, ...(Object.keys(headers).length ? { headers } : {}), ...(content ? { content } : {}) };
  }

  /** OpenAPI 3.1 cannot give each server-sent event a schema; the `x-events` extension does, by event name. */
  private eventStream(events: NonNullable<ResponseDoc['events']>): Json {
    const names = Object.entries(events).map(([name, event]) => `\`${name}\`: ${event.description}`);
    const [firstName, first] = Object.entries(events)[0];
    const example = firstExample(jsonSchemaOf(first.data, 'output'));
    return {
      schema: {
        type: 'string',
        description: `Server-sent events; each \`data\` line is JSON. ${names.join(' ')} Comment lines (\`: keep-alive\`) keep idle proxies from closing the stream.`,
      },
      ...(example === undefined ? {} : { example: `event: ${firstName}\ndata: ${JSON.stringify(example)}\n\n` }),
      'x-events': Object.fromEntries(Object.entries(events).map(([name, event]) => [name, { description: event.description, data: this.responseSchema(event.data) }])),
    };
  }

  operation(route: ResolvedRoute): Json {
    const correlated = route.correlated !== false;
    const responses: Record<string, Json> = {};
    for (const [status, doc] of Object.entries(route.responses)) if (doc) responses[status] = this.response(doc, correlated);
    const errors = [...new Set([...route.errors, ...implicitErrors(route.access)])].sort((a, b) => a - b);
    for (const status of errors) responses[String(status)] ??= { $ref: `#/components/responses/${ERROR_RESPONSES[status].name}` };
    return {
      operationId: route.operationId,
      tags: [route.tag],
      summary: route.summary,
      description: [route.description, roleLine(route.access)].filter(Boolean).join('\n\n'),
      ...(route.access === 'public' ? { security: [] } : { 'x-required-role': route.access }),
      parameters: parametersOf(route),
      ...(route.body ? { requestBody: requestBodyOf(route.body) } : {}),
      responses,
    };
  }

  errorResponses(): Record<string, Json> {
    return Object.fromEntries(
      Object.entries(ERROR_RESPONSES).map(([status, doc]) => [
        doc.name,
        {
          description: `${doc.description} Codes: ${codesOfStatus(Number(status)).join(', ')}.`,
          headers: { 'x-correlation-id': { $ref: `#/components/headers/${CORRELATION}` }, ...doc.headers },
          content: {
            'application/json': {
              schema: { $ref: SCHEMA_REF('ErrorBody') },
              examples: Object.fromEntries(
                doc.examples.map((example, index) => [
                  index === 0 || doc.examples[index - 1].code !== example.code ? example.code : `${example.code}_${index}`,
                  { summary: example.code, value: { error: { ...example, correlationId: EXAMPLE_CORRELATION_ID } } },
                ]),
              ),
            },
          },
        },
      ]),
    );
  }
}

const KEY_NOTE =
  'Keys look like `qk_live_` + 36 characters; each belongs to one tenant and has one role (`read` < `write` < `admin`). ' +
  'With `AUTH_MODE=trusted-header` the gateway takes no keys: it trusts the tenant header an authenticating proxy in front of it sets, and this scheme does not apply.';

function description(settings: DocumentSettings): string {
  return [
    'Quarry: upload documents, ask questions, get answers that cite their sources.',
    '**Authentication.** Every `/api` route needs an API key, sent as `Authorization: Bearer qk_live_…` (what OpenAI-style clients send) or `x-api-key: qk_live_…`. ' +
      'A key acts for its own tenant only; another tenant\'s ids are unknown (404). Each route says the lowest role it needs (`x-required-role`). ' +
      'Health, metrics, this document and its UI need no key. ' +
      `With \`AUTH_MODE=trusted-header\` the gateway takes no keys and acts for the tenant in the \`${settings.trustedHeader ?? 'x-tenant-id'}\` header, which an authenticating proxy in front of it must set.`,
    '**Errors** all have one shape: `{"error":{"code","message","correlationId"}}`, the framework\'s own included; the code is stable, the message is for people and never carries internal text. ' +
      '503s (a dependency is down) and 429s carry `Retry-After`.',
  ].join('\n\n');
}

/** The OpenAPI 3.1 document of the catalog's routes. */
export function buildOpenApiDocument(routes: RouteDoc[], settings: DocumentSettings): OpenApiDocument {
  const builder = new DocumentBuilder();
  const paths: Record<string, Record<string, Json>> = {};
  for (const route of routes.map(resolveRoute)) {
    const path = route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const method = route.method.toLowerCase();
    paths[path] ??= {};
    if (paths[path][method]) throw new Error(`${route.method} ${route.path} is in the catalog twice`);
    paths[path][method] = builder.operation(route);
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Quarry API', version: settings.version, description: description(settings), license: { name: 'MIT', identifier: 'MIT' } },
    servers: [{ url: '/', description: 'The gateway serving this document' }],
    security: [{ bearerAuth: [] }, { apiKeyHeader: [] }],
    tags: [
      { name: 'documents', description: 'Upload, list, read and delete documents.' },
      { name: 'jobs', description: 'Follow and cancel ingestion.' },
      { name: 'query', description: 'Questions answered with citations.' },
      { name: 'tasks', description: 'Background tasks: submit, follow and cancel the work the task-scheduler runs (cache warming, retention, …).' },
      { name: 'keys', description: "Manage the tenant's API keys (admin)." },
      { name: 'analytics', description: "Operator views (admin): the tenant's questions and documents, and the installation's load." },
      { name: 'openai', description: 'The OpenAI-compatible API (/v1): stock OpenAI clients ask with the API key as their Bearer token.' },
      { name: 'operations', description: 'Health and metrics, outside /api, on every service.' },
      { name: 'documentation', description: 'This document and its UI.' },
    ],
    paths,
    components: {
      schemas: builder.schemas,
      responses: builder.errorResponses(),
      parameters: {
        [CORRELATION]: {
          name: 'x-correlation-id',
          in: 'header',
          required: false,
          description: 'Your id for the request, carried into the logs and every job it causes; one is made up when absent.',
          schema: { type: 'string', pattern: '^[\\w.:-]{1,128}$' },
        },
      },
      headers: {
        [CORRELATION]: { description: 'The request\'s correlation id (the one sent, or a new one).', schema: { type: 'string' } },
      },
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'qk_live_…', description: `\`Authorization: Bearer qk_live_…\`. ${KEY_NOTE}` },
        apiKeyHeader: { type: 'apiKey', in: 'header', name: 'x-api-key', description: `\`x-api-key: qk_live_…\`. ${KEY_NOTE}` },
      },
    },
  };
}
