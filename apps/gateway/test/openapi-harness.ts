import 'reflect-metadata';
import { execFile } from 'node:child_process';
import type { RunningService } from '@quarry/service-kit';
import { repoRoot } from '@quarry/testing';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { GatewayConfig } from '../src/config';
import { startGateway } from './start-gateway';

type Json = Record<string, unknown>;

export interface RegisteredRoute {
  method: string;
  url: string;
}

/**
 * The gateway in-process, set up as main.ts does, with a record of every route Fastify registers
 * (an onRoute hook in place before Nest and the plugins add theirs).
 */
export async function startRecordedGateway(env: Record<string, string>): Promise<{ service: RunningService<GatewayConfig>; routes: RegisteredRoute[] }> {
  const routes: RegisteredRoute[] = [];
  const service = await startGateway(env, {
    beforeHttp: (fastify) =>
      fastify.addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url ?? route.path });
      }),
  });
  return { service, routes };
}

/**
 * Validates an OpenAPI document with @seriousme/openapi-schema-validator (the OpenAPI 3.1 schema
 * plus its JSON Schema dialect). The package is ESM only, which jest's CommonJS runtime cannot
 * load, so it runs in a Node process of its own.
 */
export function validateOpenApi(document: unknown): Promise<{ valid: boolean; errors?: unknown }> {
  const script = `
    import { Validator } from '@seriousme/openapi-schema-validator';
    let input = '';
    for await (const chunk of process.stdin) input += chunk;
    const result = await new Validator().validate(JSON.parse(input));
    process.stdout.write(JSON.stringify(result));
  `;
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: repoRoot(), maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`the validator failed: ${stderr || error.message}`));
      else resolve(JSON.parse(stdout) as { valid: boolean; errors?: unknown });
    });
    child.stdin?.end(JSON.stringify(document));
  });
}

const COMPONENTS_ID = 'components';

/** `#/components/schemas/X` as a reference into the one schema that holds them all. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (!value || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      key === '$ref' && typeof inner === 'string' ? inner.replace('#/components/schemas/', `${COMPONENTS_ID}#/$defs/`) : rewriteRefs(inner),
    ]),
  );
}

/**
 * Reads a served document the way a client does: finds an operation's schemas (following the
 * `$ref`s to shared responses) and checks values against them with Ajv's JSON Schema 2020-12.
 */
export class ServedDocument {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(readonly document: Json & { paths: Record<string, Record<string, Json>>; components: Json & { responses: Record<string, Json>; schemas: Json } }) {
    addFormats(this.ajv);
    this.ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(document.components.schemas) as Json });
  }

  /** Every operation as `METHOD /path/:param` (Fastify's spelling). */
  routes(): string[] {
    return Object.entries(this.document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`),
    );
  }

  operation(method: string, path: string): Json {
    const operation = this.document.paths[path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[method.toLowerCase()];
    if (!operation) throw new Error(`the document has no ${method} ${path}`);
    return operation;
  }

  /** The response documented for a status (a shared error response followed), or undefined. */
  response(method: string, path: string, status: number): Json | undefined {
    const response = (this.operation(method, path).responses as Record<string, Json>)[String(status)];
    const ref = response?.$ref;
    return typeof ref === 'string' ? this.document.components.responses[ref.replace('#/components/responses/', '')] : response;
  }

  /** Problems of a value against a schema of this document (none: it is valid). */
  problems(schema: Json, value: unknown): string[] {
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      validate = this.ajv.compile(rewriteRefs(schema) as Json);
      this.compiled.set(key, validate);
    }
    return validate(value) ? [] : (validate.errors ?? []).map((error) => `${error.instancePath || '/'} ${error.message ?? ''}`);
  }

  /** The JSON body schema of the request, or of a response. */
  jsonSchema(method: string, path: string, status?: number): Json {
    const holder = status === undefined ? (this.operation(method, path).requestBody as Json | undefined) : this.response(method, path, status);
    const schema = (holder?.content as Record<string, Json> | undefined)?.['application/json']?.schema as Json | undefined;
    if (!schema) throw new Error(`${method} ${path} documents no JSON body${status === undefined ? '' : ` for ${status}`}`);
    return schema;
  }

  parameterSchema(method: string, path: string, name: string): Json {
    const parameters = (this.operation(method, path).parameters ?? []) as Json[];
    const parameter = parameters.find((candidate) => candidate.name === name);
    if (!parameter) throw new Error(`${method} ${path} documents no parameter ${name}`);
    return parameter.schema as Json;
  }

  /**
   * Fails unless the response's status is documented for the route and its JSON body (if any)
   * matches the documented schema. Returns the body.
   */
  async expectDocumented(method: string, path: string, response: Response): Promise<unknown> {
    const documented = this.response(method, path, response.status);
    if (!documented) throw new Error(`${method} ${path} answered ${response.status}, which its operation does not document`);
    const text = await response.text();
    const content = documented.content as Record<string, Json> | undefined;
    if (!content) {
      expect(text).toBe('');
      return undefined;
    }
    const type = (response.headers.get('content-type') ?? '').split(';')[0].trim();
    const media = Object.entries(content).find(([name]) => name.split(';')[0].trim() === type);
    if (!media) throw new Error(`${method} ${path} answered ${response.status} as ${type}; documented: ${Object.keys(content).join(', ')}`);
    if (type !== 'application/json') return text;
    const body: unknown = JSON.parse(text);
    expect({ route: `${method} ${path} ${response.status}`, problems: this.problems(media[1].schema as Json, body) }).toEqual({
      route: `${method} ${path} ${response.status}`,
      problems: [],
    });
    return body;
  }
}
