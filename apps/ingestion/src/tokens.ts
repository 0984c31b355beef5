export const EMBEDDER = Symbol('EMBEDDER');
export const DOCUMENT_CHUNKER = Symbol('DOCUMENT_CHUNKER');
