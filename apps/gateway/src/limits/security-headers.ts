import helmet from '@fastify/helmet';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { QUEUE_DASHBOARD_PATH } from '../admin/admin-paths';
import { DOCS_UI_PATH } from '../openapi/route-catalog';

/**
 * The API answers JSON and event streams, never pages: its policy lets a browser load nothing
 * from a response and frame none of them.
 */
const API_POLICY = {
  useDefaults: false,
  directives: { defaultSrc: ["'none'"], baseUri: ["'none'"], formAction: ["'none'"], frameAncestors: ["'none'"] },
};

/**
 * Swagger UI (/api/docs) is a page: its HTML loads its scripts, styles and icons from the gateway
 * itself (no inline script), renders with inline styles and data: images, and fetches the
 * document and "try it out" calls from the same origin. Nothing from another host is allowed.
 * No upgrade-insecure-requests (helmet's default): a gateway served over plain HTTP would send the
 * page's own assets to https:// and break it.
 */
const DOCS_UI_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    baseUri: ["'self'"],
    connectSrc: ["'self'"],
    fontSrc: ["'self'", 'data:'],
    formAction: ["'self'"],
    frameAncestors: ["'self'"],
    imgSrc: ["'self'", 'data:'],
    objectSrc: ["'none'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
  },
};

// The queue dashboard's page is built the same way (its Google font link is refused by the policy: it falls back to the system font).
const isDocsUiRoute = (url: string) => [DOCS_UI_PATH, QUEUE_DASHBOARD_PATH].some((page) => url === page || url.startsWith(`${page}/`));

/**
 * Security headers on every response (helmet): nosniff, a frame ban, no referrer, HSTS (which
 * browsers honour over HTTPS only, i.e. behind a TLS proxy), cross-origin isolation, and a
 * Content-Security-Policy: the API's, or the docs UI's on its routes. Registered before the UI's
 * routes, which get their policy as they are added; helmet sets the headers when a request
 * arrives, so error answers (401, 429 …) and progress streams carry them too.
 */
export async function registerSecurityHeaders(app: NestFastifyApplication): Promise<void> {
  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onRoute', (route) => {
    if (isDocsUiRoute(route.url)) route.config = { ...route.config, helmet: { contentSecurityPolicy: DOCS_UI_POLICY } } as typeof route.config;
  });
  await app.register(helmet, { contentSecurityPolicy: API_POLICY });
}
