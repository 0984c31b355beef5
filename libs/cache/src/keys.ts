import { createHash } from 'node:crypto';

/** sha256, base64url, first 22 characters (132 bits): short, and never the text it was made from. */
export function shortHash(material: string): string {
  return createHash('sha256').update(material).digest('base64url').slice(0, 22);
}

/**
 * JSON with object keys sorted at every depth, so `{a,b}` and `{b,a}` give one key. `undefined`
 * members are dropped (as JSON does); arrays keep their order (a filter's order may matter).
 */
export function stableStringify(value: unknown): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((item) => stableStringify(item)).join(',')}]`;
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .filter((name) => record[name] !== undefined)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${stableStringify(record[name])}`);
  return `{${members.join(',')}}`;
}

// Zero-width space, word joiner, byte-order mark and soft hyphen: invisible, and never meaningful in a question.
const INVISIBLE = /[\u200B\u2060\uFEFF\u00AD]/gu;
const TRAILING_PUNCTUATION = /[\p{P}\s]+$/u;

/** Unicode NFKC, whitespace collapsed and trimmed: the normalisation of a query's text (case kept). */
export function normaliseText(text: string): string {
  return text.normalize('NFKC').replace(INVISIBLE, '').replace(/\s+/gu, ' ').trim();
}

/**
 * Question normalisation for the answer key: Unicode NFKC, case-folded (upper then lower case, which
 * folds ß to ss and final sigma to σ as full case folding does, then NFKC again), whitespace
 * collapsed, trailing punctuation trimmed. "What is  RAG?" and "what is rag" share an answer.
 */
export function normaliseQuestion(question: string): string {
  const folded = normaliseText(question).toUpperCase().toLowerCase().normalize('NFKC');
  return folded.replace(TRAILING_PUNCTUATION, '');
}

/** Filters that select nothing special are one key: undefined, null and {} alike. */
function normaliseFilters(filters: unknown): unknown {
  if (filters === undefined || filters === null) return null;
  if (typeof filters === 'object' && !Array.isArray(filters) && Object.values(filters).every((value) => value === undefined)) return null;
  return filters;
}

/** A tenant id kept readable in the key (operators can find a tenant's keys) when it is a plain identifier; hashed otherwise. */
function tenantSegment(tenantId: string): string {
  return /^[A-Za-z0-9._-]{1,64}$/.test(tenantId) ? tenantId : `~${shortHash(tenantId)}`;
}

function versionSegment(corpusVersion: string | number): string {
  const text = String(corpusVersion);
  return /^[A-Za-z0-9._-]{1,40}$/.test(text) ? `v${text}` : `v~${shortHash(text)}`;
}

function tenantKey(namespace: string, tenantId: string, corpusVersion: string | number, material: unknown): string {
  return `${namespace}:${tenantSegment(tenantId)}:${versionSegment(corpusVersion)}:${shortHash(stableStringify(material))}`;
}

/**
 * Typed key builders: every key holds the namespace (kind), and for tenant data the tenant and the
 * tenant's corpus version; the variable parts are normalised, then hashed (sha256 base64url, first
 * 22 chars), so keys are short and never carry user text. A corpus version bump makes every older
 * answer and retrieval key unreachable at once: they are never read again and expire by TTL.
 */
export const cacheKeys = {
  /** `maxRefinements`: the refine rounds the request allowed (an answer without the loop is not one with it). */
  answer(input: { tenantId: string; corpusVersion: string | number; question: string; filters?: unknown; topK?: number; maxRefinements?: number; generator: string }): string {
    return tenantKey('answer', input.tenantId, input.corpusVersion, {
      question: normaliseQuestion(input.question),
      filters: normaliseFilters(input.filters),
      topK: input.topK ?? null,
      ...(input.maxRefinements !== undefined ? { maxRefinements: input.maxRefinements } : {}),
      generator: input.generator,
    });
  },
  /** `options`: whatever else shapes the ranking (fusion, diversity, other phrasings). */
  retrieval(input: { tenantId: string; corpusVersion: string | number; query: string; filters?: unknown; topK?: number; mode: string; embedding: string; options?: unknown }): string {
    return tenantKey('retrieval', input.tenantId, input.corpusVersion, {
      query: normaliseText(input.query),
      filters: normaliseFilters(input.filters),
      topK: input.topK ?? null,
      mode: input.mode,
      embedding: input.embedding,
      options: input.options ?? null,
    });
  },
  /** Not tenant-bound: content-addressed (a vector is a function of model, dimensions and text). */
  queryEmbedding(input: { model: string; dimensions: number; text: string }): string {
    return `query-embedding:${shortHash(stableStringify({ model: input.model, dimensions: input.dimensions, text: normaliseText(input.text) }))}`;
  },
  /** Content-addressed by the exact text: a document's chunk is embedded as it is, so it is hashed as it is. */
  documentEmbedding(input: { model: string; dimensions: number; text: string }): string {
    return `document-embedding:${shortHash(stableStringify({ model: input.model, dimensions: input.dimensions, text: input.text }))}`;
  },
  chunk(input: { tenantId: string; chunkId: string }): string {
    return `chunk:${tenantSegment(input.tenantId)}:${shortHash(input.chunkId)}`;
  },
  llm(input: { model: string; messages: unknown; params: unknown }): string {
    return `llm:${shortHash(stableStringify({ model: input.model, messages: input.messages, params: input.params ?? null }))}`;
  },
};
