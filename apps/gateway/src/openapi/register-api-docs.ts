import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { GatewayConfig } from '../config';
import { type OpenApiDocument, buildOpenApiDocument } from './openapi-document';
import { packageVersion } from './package-version';
import { DOCS_UI_PATH, OPENAPI_JSON_PATH, routeCatalog } from './route-catalog';

/** Everything under here is the UI's own (its HTML, scripts, styles, and the copy of the document it loads). */
export const DOCS_UI_ASSETS = `${DOCS_UI_PATH}/`;

export type ApiDocsConfig = Parameters<typeof routeCatalog>[0] & Pick<GatewayConfig, 'AUTH_TRUSTED_HEADER'>;

/** The gateway's OpenAPI document, from the route catalog and the zod schemas the routes validate with. */
export function gatewayOpenApiDocument(config: ApiDocsConfig): OpenApiDocument {
  return buildOpenApiDocument(routeCatalog(config), { version: packageVersion(), trustedHeader: config.AUTH_TRUSTED_HEADER });
}

/**
 * Serves the document at /api/openapi.json and Swagger UI at /api/docs, both without a key: they
 * are Fastify routes, outside the Nest guard. The UI's assets ship inside @fastify/swagger-ui, so
 * it works with no network access.
 */
export async function registerApiDocs(app: NestFastifyApplication, document: OpenApiDocument): Promise<void> {
  // Static mode: the document is ours; the plugin only holds it for the UI.
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, {
    routePrefix: DOCS_UI_PATH,
    // The plugin's default asks no validator off this gateway (no "valid" badge from swagger.io).
    uiConfig: { deepLinking: true },
  });
  const json = JSON.stringify(document);
  app
    .getHttpAdapter()
    .getInstance()
    .get(OPENAPI_JSON_PATH, (_request, reply) => reply.type('application/json; charset=utf-8').send(json));
}
