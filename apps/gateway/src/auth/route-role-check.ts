import { Injectable, type OnModuleInit, RequestMethod, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { REQUIRED_ROLE } from './requires-role.decorator';

/** Quarry's API (/api) and the OpenAI-compatible one (/v1): every route there needs a key. */
const underApi = (route: string) => ['/api', '/v1'].some((prefix) => route === prefix || route.startsWith(`${prefix}/`));
const asList = (path: unknown): string[] => (Array.isArray(path) ? (path as string[]) : [typeof path === 'string' ? path : '']);
const joinPath = (...parts: string[]) => `/${parts.map((part) => part.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/')}`;

/** Every /api (or /v1) route of these controllers that declares no role (`GET /api/things (ThingsController.list)`). */
export function routesWithoutRole(controllers: Array<Type<unknown>>, scanner = new MetadataScanner()): string[] {
  const missing: string[] = [];
  for (const controller of controllers) {
    const classRole: unknown = Reflect.getMetadata(REQUIRED_ROLE, controller);
    for (const name of scanner.getAllMethodNames(controller.prototype as object)) {
      const handler = (controller.prototype as Record<string, unknown>)[name];
      if (typeof handler !== 'function') continue;
      const methodPath: unknown = Reflect.getMetadata(PATH_METADATA, handler);
      if (methodPath === undefined) continue; // not a route
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod] ?? 'GET';
      const role: unknown = Reflect.getMetadata(REQUIRED_ROLE, handler) ?? classRole;
      for (const base of asList(Reflect.getMetadata(PATH_METADATA, controller))) {
        for (const path of asList(methodPath)) {
          const route = joinPath(base, path);
          if (role === undefined && underApi(route)) missing.push(`${method} ${route} (${controller.name}.${name})`);
        }
      }
    }
  }
  return missing;
}

/**
 * Refuses to start a gateway with an /api route that declares no role (`@RequiresRole`): a route
 * added without one would otherwise be open to anyone who can reach the gateway.
 */
@Injectable()
export class RouteRoleCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    const controllers = this.discovery
      .getControllers()
      .map((wrapper) => wrapper.metatype)
      .filter((metatype): metatype is Type<unknown> => typeof metatype === 'function');
    const missing = routesWithoutRole(controllers, this.scanner);
    if (missing.length > 0) {
      throw new Error(`every /api route must declare the role it requires (@RequiresRole); these do not: ${missing.join(', ')}`);
    }
  }
}
