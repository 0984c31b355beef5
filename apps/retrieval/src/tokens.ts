export const QUERY_EMBEDDER = Symbol('QUERY_EMBEDDER');
