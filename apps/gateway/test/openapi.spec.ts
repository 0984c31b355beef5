import { ErrorCode } from '@quarry/contracts';
import type { RunningService } from '@quarry/service-kit';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { QUEUE_DASHBOARD_PATH } from '../src/admin/admin-paths';
import type { GatewayConfig } from '../src/config';
import { HTTP_STATUS_OF } from '../src/http/error-status';
import { PUBLIC_ERROR_CODES } from '../src/http/error.schemas';
import { ERROR_RESPONSES } from '../src/openapi/error-responses';
import { DOCS_UI_ASSETS } from '../src/openapi/register-api-docs';
import { DOCS_UI_PATH, OPENAPI_JSON_PATH } from '../src/openapi/route-catalog';
import { type RegisteredRoute, ServedDocument, startRecordedGateway, validateOpenApi } from './openapi-harness';

type Json = Record<string, unknown>;

/** Every example a document carries, with the schema it illustrates. */
function examplesOf(document: ServedDocument['document']): Array<{ where: string; schema: Json; value: unknown }> {
  const found: Array<{ where: string; schema: Json; value: unknown }> = [];
  const visit = (node: unknown, where: string, schema?: Json) => {
    if (!node || typeof node !== 'object') return;
    const object = node as Json;
    // A schema's own `examples`, a media type's or a parameter's `example`, a media type's named `examples`.
    if ('type' in object || 'properties' in object || 'anyOf' in object || '$ref' in object) {
      if (Array.isArray(object.examples)) object.examples.forEach((value, index) => found.push({ where: `${where}.examples[${index}]`, schema: object, value }));
    }
    if ('schema' in object && object.schema && typeof object.schema === 'object') {
      const own = object.schema as Json;
      if ('example' in object) found.push({ where: `${where}.example`, schema: own, value: object.example });
      if (object.examples && typeof object.examples === 'object' && !Array.isArray(object.examples)) {
        for (const [name, example] of Object.entries(object.examples as Record<string, Json>)) found.push({ where: `${where}.examples.${name}`, schema: own, value: example.value });
      }
      schema = own;
    }
    for (const [key, inner] of Object.entries(object)) if (key !== 'examples' && key !== 'example') visit(inner, `${where}.${key}`, schema);
  };
  visit(document.paths, 'paths');
  visit(document.components, 'components');
  return found;
}

/** The gateway in its default mode (AUTH_MODE=api-key): the document and the UI must be reachable without a key. */
describe('OpenAPI document and UI', () => {
  let schema: TestSchema;
  let redis: TestRedisPrefix;
  let service: RunningService<GatewayConfig>;
  let routes: RegisteredRoute[];
  let served: ServedDocument;

  beforeAll(async () => {
    schema = await createTestSchema('gwopenapi');
    redis = createTestRedisPrefix('gwopenapi');
    ({ service, routes } = await startRecordedGateway({ DATABASE_URL: schema.url, DATABASE_SCHEMA: schema.schema, REDIS_URL: redis.url, REDIS_PREFIX: redis.prefix }));
    const response = await fetch(`${service.url}${OPENAPI_JSON_PATH}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    served = new ServedDocument((await response.json()) as ServedDocument['document']);
  });

  afterAll(async () => {
    await service?.close();
    await redis?.cleanup();
    await schema?.drop();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(served.document.openapi).toBe('3.1.0');
    const result = await validateOpenApi(served.document);
    expect(result).toEqual({ valid: true });
  });

  it('is validated for real: the validator refuses a broken copy', async () => {
    const broken = structuredClone(served.document);
    (broken.paths['/api/query'].post.responses as Json)['200'] = { content: {} }; // a response without its description
    await expect(validateOpenApi(broken)).resolves.toMatchObject({ valid: false });
  });

  it('describes every route Fastify registered, and no route that is not registered', () => {
    const registered = new Set<string>();
    for (const { method, url } of routes) {
      // HEAD is answered for every GET (Fastify's exposeHeadRoutes); the document leaves it implicit.
      if (method === 'HEAD' && routes.some((route) => route.method === 'GET' && route.url === url)) continue;
      // The UI's own files: its HTML, scripts and styles, and the copy of the document it loads.
      if (url.startsWith(DOCS_UI_ASSETS)) continue;
      // The queue dashboard is an operators' page (bull-board's own routes), not part of the API.
      if (url === QUEUE_DASHBOARD_PATH || url.startsWith(`${QUEUE_DASHBOARD_PATH}/`)) continue;
      registered.add(`${method} ${url}`);
    }
    expect([...registered].sort()).toEqual(served.routes().sort());
  });

  it('says who may call each route, and the routes answer accordingly without a key', async () => {
    for (const route of served.routes()) {
      const [method, path] = route.split(' ');
      const operation = served.operation(method, path);
      const isPublic = Array.isArray(operation.security) && operation.security.length === 0;
      // /api and /v1 need a key, except the document and its UI; health and metrics are outside them.
      const expectedPublic = (!path.startsWith('/api/') && !path.startsWith('/v1/')) || path === OPENAPI_JSON_PATH || path === DOCS_UI_PATH;
      expect({ route, isPublic, role: operation['x-required-role'] }).toEqual({ route, isPublic: expectedPublic, role: isPublic ? undefined : expect.stringMatching(/^(read|write|admin)$/) as unknown });

      const url = `${service.url}${path.replace(/:[A-Za-z0-9_]+/g, '00000000-0000-4000-8000-000000000000')}`;
      const response = await fetch(url, { method, redirect: 'manual' });
      if (isPublic) expect({ route, status: response.status }).toEqual({ route, status: path === '/health/ready' || path === '/health/deep' ? expect.any(Number) as unknown : 200 });
      else expect({ route, status: response.status }).toEqual({ route, status: 401 });
      await served.expectDocumented(method, path, response);
    }
  });

  it('documents an error response for every public error code, each example under the status of its code', () => {
    for (const code of PUBLIC_ERROR_CODES) expect({ code, documented: HTTP_STATUS_OF[code] in ERROR_RESPONSES }).toEqual({ code, documented: true });
    for (const [status, response] of Object.entries(ERROR_RESPONSES)) {
      for (const example of response.examples) expect({ code: example.code, status: HTTP_STATUS_OF[example.code] }).toEqual({ code: example.code, status: Number(status) });
    }
    // TIMEOUT never reaches a client: it is answered as SERVICE_UNAVAILABLE.
    expect(PUBLIC_ERROR_CODES).not.toContain(ErrorCode.Timeout);
  });

  it('has examples that match their schemas', () => {
    const examples = examplesOf(served.document);
    // Requests, responses, parameters and errors all carry some.
    expect(examples.length).toBeGreaterThan(20);
    for (const { where, schema: exampleSchema, value } of examples) expect({ where, problems: served.problems(exampleSchema, value) }).toEqual({ where, problems: [] });
  });

  it('serves the UI with all its assets from the gateway, so it works without network access', async () => {
    const page = await fetch(`${service.url}${DOCS_UI_PATH}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    expect(html).toContain('swagger-ui');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]);
    expect(assets.length).toBeGreaterThanOrEqual(4);
    for (const asset of assets) {
      // Nothing from another host: every asset is a path on this gateway.
      expect(asset).toMatch(/^\.?\//);
      const response = await fetch(new URL(asset, `${service.url}${DOCS_UI_PATH}`));
      expect({ asset, status: response.status }).toEqual({ asset, status: 200 });
      expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
    }
    const initializer = await (await fetch(`${service.url}${DOCS_UI_ASSETS}static/swagger-initializer.js`)).text();
    // No URL in the code (a link in a comment is harmless): nothing is fetched from another host.
    expect(initializer).not.toMatch(/["'`]https?:\/\//);
    // The document the UI loads is the one served at /api/openapi.json.
    const uiCopy = await (await fetch(`${service.url}${DOCS_UI_ASSETS}json`)).json();
    expect(uiCopy).toEqual(served.document);
  });
});
