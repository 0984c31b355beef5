import type { FastifyInstance } from 'fastify';
import { type UploadLimits, maxRequestBytes, multipartBoundary, requestTooLarge } from '../documents/upload-form';

export interface GuardedUploadRoute {
  method: string;
  url: string;
  limits: UploadLimits;
}

/**
 * Refuses an upload from its headers alone, before a byte of its body is read: a body that is not
 * multipart/form-data with a boundary (400), or a Content-Length no form within the route's limits
 * can have (413; the connection is then closed, so the body is never read). A chunked upload has
 * no length up front: its file is cut off the moment it passes the limit (see readUploadForm).
 */
export function guardUploads(fastify: FastifyInstance, routes: GuardedUploadRoute[]): void {
  const limitsOf = new Map(routes.map((route) => [`${route.method} ${route.url}`, route.limits]));
  fastify.addHook('onRequest', (request, _reply, done) => {
    const limits = limitsOf.get(`${request.method} ${request.routeOptions.url}`);
    if (!limits) return done();
    try {
      multipartBoundary(request.headers['content-type']);
      const declared = request.headers['content-length'];
      if (declared !== undefined && Number(declared) > maxRequestBytes(limits)) throw requestTooLarge(limits);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}
