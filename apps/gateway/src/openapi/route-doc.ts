import { RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { type ApiKeyRole, isApiKeyRole } from '@quarry/domain';
import type { z } from 'zod';
import { REQUIRED_ROLE } from '../auth/requires-role.decorator';

/** Who may call a route: a key of at least this role, or anybody (`public`: no key). */
export type Access = ApiKeyRole | 'public';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** The error statuses the gateway answers; each has one documented response (error-responses.ts). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 429 | 500 | 502 | 503;

/** A response other than an error. */
export interface ResponseDoc {
  description: string;
  /** An `application/json` body: a schema of the components registry is referenced, another one inlined. */
  json?: z.ZodType;
  /** A `text/event-stream` body: its events by name, each with what its `data` line holds (JSON). */
  events?: Readonly<Record<string, { description: string; data: z.ZodType }>>;
  /** Any other body, as OpenAPI media type objects (Prometheus text, HTML). */
  content?: Record<string, Record<string, unknown>>;
  /** Response headers, as OpenAPI header objects. */
  headers?: Record<string, Record<string, unknown>>;
}

export type RequestBodyDoc =
  | { json: z.ZodType; description?: string }
  | {
      /** A multipart/form-data body, one property per field (the route reads it as a stream). */
      multipart: z.ZodObject;
      description?: string;
      /** OpenAPI encoding objects per field (content types, repeated fields). */
      encoding?: Record<string, Record<string, unknown>>;
    };

interface RouteDocFields {
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** Path parameters by name, each the schema the handler validates it with. */
  pathParams?: Record<string, z.ZodType>;
  /** The query string, the schema the handler validates it with. */
  query?: z.ZodObject;
  body?: RequestBodyDoc;
  responses: Partial<Record<number, ResponseDoc>>;
  /** The errors this route can answer (401, 403, 429, 500 and 503 are added from the route's access). */
  errors: ErrorStatus[];
  /** False for routes outside Nest, which take and give no `x-correlation-id`. */
  correlated?: false;
}

/**
 * One route of the gateway in the catalog. A route of a Nest controller names its handler: its
 * method, path and required role are read from the controller's decorators, so the document
 * cannot disagree with them. Routes outside Nest (health, metrics, the documentation itself)
 * state them here.
 */
export type RouteDoc = RouteDocFields &
  (
    | { handler: [controller: Type, method: string] }
    | { method: HttpMethod; path: string; access: Access }
  );

/** A catalog entry with its method, path (Fastify's `:param` form) and access settled. */
export type ResolvedRoute = RouteDocFields & { method: HttpMethod; path: string; access: Access };

const NEST_METHODS: Partial<Record<RequestMethod, HttpMethod>> = {
  [RequestMethod.GET]: 'GET',
  [RequestMethod.POST]: 'POST',
  [RequestMethod.PUT]: 'PUT',
  [RequestMethod.PATCH]: 'PATCH',
  [RequestMethod.DELETE]: 'DELETE',
};

function joinPath(...parts: string[]): string {
  const path = parts
    .flatMap((part) => part.split('/'))
    .filter(Boolean)
    .join('/');
  return `/${path}`;
}

/** The route's method and path as Nest registers them, from @Controller and @Get/@Post/… */
export function nestRouteOf(controller: Type, method: string): { method: HttpMethod; path: string } {
  const handler: unknown = (controller.prototype as Record<string, unknown>)[method];
  if (typeof handler !== 'function') throw new Error(`${controller.name}.${method} is not a method`);
  const base: unknown = Reflect.getMetadata(PATH_METADATA, controller);
  const sub: unknown = Reflect.getMetadata(PATH_METADATA, handler);
  const verb = NEST_METHODS[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
  if (typeof base !== 'string' || typeof sub !== 'string' || !verb) {
    throw new Error(`${controller.name}.${method} is not a route with one path (the catalog documents routes)`);
  }
  return { method: verb, path: joinPath(base, sub) };
}

/** The role @RequiresRole gives the handler, or its controller; undefined when neither has one. */
export function requiredRoleOf(controller: Type, method: string): ApiKeyRole | undefined {
  const handler = (controller.prototype as Record<string, unknown>)[method] as object;
  const role: unknown = Reflect.getMetadata(REQUIRED_ROLE, handler) ?? Reflect.getMetadata(REQUIRED_ROLE, controller);
  return isApiKeyRole(role) ? role : undefined;
}

export function resolveRoute(route: RouteDoc): ResolvedRoute {
  if (!('handler' in route)) return route;
  const { handler, ...fields } = route;
  const [controller, method] = handler;
  const access = requiredRoleOf(controller, method);
  if (!access) throw new Error(`${controller.name}.${method} has no @RequiresRole: the document cannot say who may call it`);
  return { ...fields, ...nestRouteOf(controller, method), access };
}
