export const EMBEDDER = Symbol('EMBEDDER');
export const DOCUMENT_CHUNKER = Symbol('DOCUMENT_CHUNKER');
export const DOCUMENT_PARSER = Symbol('DOCUMENT_PARSER');
export const DOCUMENT_ANALYZER = Symbol('DOCUMENT_ANALYZER');
