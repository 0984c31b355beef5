import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A minimal in-process EMULATION of the part of Qdrant's REST API the adapter uses, written from
 * Qdrant's documentation — not Qdrant. It lets the shared contract suite run through the adapter's
 * real HTTP path (request bodies, filters, payload round trip, prefetch + fusion) without a server,
 * but it only reproduces our reading of Qdrant's semantics:
 * - filters: `must` of `{ key, match: { value } | { any } }`; an array payload matches when any
 *   element does (Qdrant's documented array semantics);
 * - sparse search with the IDF modifier: Σ idf(i)·q(i)·d(i), idf = ln((N − n + 0.5)/(n + 0.5) + 1),
 *   N and n counted over the whole collection; only points sharing an index are returned;
 * - dense search: cosine over normalised vectors (Qdrant normalises on upsert for Cosine);
 * - fusion: RRF Σ 1/(k + rank), k = 2 (Qdrant's documented default); DBSF: each list scaled by
 *   mean ± 3σ to [0, 1], then summed;
 * - count and facet (exact): points matching the filter, and points per keyword value of a key
 *   (each element of an array payload counted), most frequent first, cut at `limit`.
 * Real Qdrant behaviour (HNSW approximation, segment optimisation, exact score values, edge cases
 * such as zero vectors or empty named vectors) is NOT reproduced: only a live server shows those.
 */

interface StoredPoint {
  id: string;
  dense?: number[];
  sparse?: { indices: number[]; values: number[] };
  payload: Record<string, unknown>;
}

interface Collection {
  config: { vectors: Record<string, { size: number; distance: string }>; sparse_vectors: Record<string, { modifier?: string }> };
  indexes: Record<string, unknown>;
  points: Map<string, StoredPoint>;
}

type Json = Record<string, unknown>;
type Condition = { key: string; match: { value?: unknown; any?: unknown[] } };
type Filter = { must?: Condition[] } | undefined;
type Scored = { point: StoredPoint; score: number };

export class EmulatedQdrant {
  private readonly collections = new Map<string, Collection>();
  private readonly server: Server = createServer((request, response) => {
    this.handle(request, response).catch((error: unknown) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ status: { error: `emulator: ${String(error)}` }, time: 0 }));
    });
  });
  private address = '';

  private constructor() {}

  static async start(): Promise<EmulatedQdrant> {
    const qdrant = new EmulatedQdrant();
    await new Promise<void>((resolve) => qdrant.server.listen(0, '127.0.0.1', () => resolve()));
    qdrant.address = `http://127.0.0.1:${(qdrant.server.address() as AddressInfo).port}`;
    return qdrant;
  }

  get url(): string {
    return this.address;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = (raw ? JSON.parse(raw) : {}) as Json;
    const path = new URL(request.url ?? '/', 'http://emulated').pathname;
    const [, root, name, ...rest] = path.split('/');
    const route = `${request.method} ${rest.join('/')}`;
    const reply = (status: number, payload: unknown): void => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(status < 300 ? { result: payload, status: 'ok', time: 0 } : { status: { error: payload }, time: 0 }));
    };
    if (root !== 'collections' || !name) return reply(404, `Not found: ${path}`);
    const collection = this.collections.get(name);
    if (route === 'PUT ') {
      if (collection) return reply(409, `Wrong input: Collection \`${name}\` already exists!`);
      this.collections.set(name, { config: body as Collection['config'], indexes: {}, points: new Map() });
      return reply(200, true);
    }
    if (!collection) return reply(404, `Not found: Collection \`${name}\` doesn't exist!`);
    switch (route) {
      case 'GET ':
        return reply(200, { status: 'green', config: { params: collection.config }, payload_schema: collection.indexes });
      case 'DELETE ':
        this.collections.delete(name);
        return reply(200, true);
      case 'PUT index':
        collection.indexes[body.field_name as string] = { data_type: 'keyword', params: body.field_schema, points: 0 };
        return reply(200, { operation_id: 0, status: 'completed' });
      case 'PUT points':
        for (const point of body.points as { id: string; vector: Json; payload: Json }[]) {
          const dense = point.vector.dense as number[] | undefined;
          const sparse = point.vector.bm25 as StoredPoint['sparse'];
          if (dense && dense.length !== collection.config.vectors.dense.size) return reply(400, 'Wrong input: Vector dimension error');
          if (sparse && new Set(sparse.indices).size !== sparse.indices.length) return reply(400, 'Wrong input: duplicate indices');
          collection.points.set(point.id, { id: point.id, dense: dense && normalise(dense), sparse, payload: point.payload });
        }
        return reply(200, { operation_id: 0, status: 'completed' });
      case 'POST points/delete':
        for (const point of [...collection.points.values()]) if (matches(point, body.filter as Filter)) collection.points.delete(point.id);
        return reply(200, { operation_id: 0, status: 'completed' });
      case 'POST points/count':
        return reply(200, { count: [...collection.points.values()].filter((point) => matches(point, body.filter as Filter)).length });
      case 'POST facet':
        return reply(200, { hits: facet(collection, body) });
      case 'POST points/query':
        return reply(200, { points: this.query(collection, body) });
      default:
        return reply(404, `Not found: ${route}`);
    }
  }

  private query(collection: Collection, body: Json): Json[] {
    const limit = body.limit as number;
    let scored: Scored[];
    if (Array.isArray(body.prefetch)) {
      const lists = (body.prefetch as Json[]).map((prefetch) => this.search(collection, prefetch));
      const fusion = (body.query as { fusion: 'rrf' | 'dbsf' }).fusion;
      scored = fusion === 'rrf' ? rrf(lists) : dbsf(lists);
      scored = scored.filter(({ point }) => matches(point, body.filter as Filter)).slice(0, limit);
    } else {
      scored = this.search(collection, body);
    }
    const fields = body.with_payload as string[];
    return scored.map(({ point, score }) => ({
      id: point.id,
      version: 1,
      score,
      payload: Object.fromEntries(fields.filter((field) => field in point.payload).map((field) => [field, point.payload[field]])),
      ...(Array.isArray(body.with_vector) && point.dense && { vector: { dense: point.dense } }),
    }));
  }

  private search(collection: Collection, request: Json): Scored[] {
    const candidates = [...collection.points.values()].filter((point) => matches(point, request.filter as Filter));
    let scored: Scored[];
    if (request.using === 'dense') {
      const query = normalise(request.query as number[]);
      scored = candidates.filter((point) => point.dense).map((point) => ({ point, score: dot(query, point.dense as number[]) }));
    } else {
      const query = request.query as { indices: number[]; values: number[] };
      const withSparse = [...collection.points.values()].filter((point) => point.sparse);
      const idf = (index: number): number => {
        const n = withSparse.filter((point) => point.sparse?.indices.includes(index)).length;
        return Math.log((withSparse.length - n + 0.5) / (n + 0.5) + 1);
      };
      scored = candidates.flatMap((point) => {
        let score = 0;
        let overlap = false;
        query.indices.forEach((index, i) => {
          const at = point.sparse?.indices.indexOf(index) ?? -1;
          if (at === -1) return;
          overlap = true;
          score += idf(index) * query.values[i] * (point.sparse as { values: number[] }).values[at];
        });
        return overlap ? [{ point, score }] : [];
      });
    }
    return scored.sort((a, b) => b.score - a.score || (a.point.id < b.point.id ? -1 : 1)).slice(0, request.limit as number);
  }
}

/** Exact facet counts: points per value of `key` under the filter, most frequent first, at most `limit` (default 10). */
function facet(collection: Collection, body: Json): Json[] {
  const counts = new Map<string, number>();
  for (const point of collection.points.values()) {
    if (!matches(point, body.filter as Filter)) continue;
    const value = point.payload[body.key as string];
    for (const item of Array.isArray(value) ? (value as unknown[]) : [value]) {
      if (typeof item === 'string') counts.set(item, (counts.get(item) ?? 0) + 1);
    }
  }
  return [...counts]
    .sort(([a, left], [b, right]) => right - left || (a < b ? -1 : 1))
    .slice(0, (body.limit as number | undefined) ?? 10)
    .map(([value, count]) => ({ value, count }));
}

function matches(point: StoredPoint, filter: Filter): boolean {
  return (filter?.must ?? []).every(({ key, match }) => {
    const value = point.payload[key];
    const values = Array.isArray(value) ? (value as unknown[]) : [value];
    if ('any' in match) return values.some((candidate) => (match.any as unknown[]).includes(candidate));
    return values.includes(match.value);
  });
}

function rrf(lists: Scored[][], k = 2): Scored[] {
  const fused = new Map<string, Scored>();
  for (const list of lists) {
    list.forEach(({ point }, rank) => {
      const entry = fused.get(point.id) ?? { point, score: 0 };
      entry.score += 1 / (k + rank + 1);
      fused.set(point.id, entry);
    });
  }
  return [...fused.values()].sort((a, b) => b.score - a.score);
}

function dbsf(lists: Scored[][]): Scored[] {
  const fused = new Map<string, Scored>();
  for (const list of lists) {
    if (list.length === 0) continue;
    const mean = list.reduce((sum, { score }) => sum + score, 0) / list.length;
    const sigma = Math.sqrt(list.reduce((sum, { score }) => sum + (score - mean) ** 2, 0) / list.length);
    const low = mean - 3 * sigma;
    const high = mean + 3 * sigma;
    for (const { point, score } of list) {
      const normalised = high === low ? 0.5 : Math.min(1, Math.max(0, (score - low) / (high - low)));
      const entry = fused.get(point.id) ?? { point, score: 0 };
      entry.score += normalised;
      fused.set(point.id, entry);
    }
  }
  return [...fused.values()].sort((a, b) => b.score - a.score);
}

function normalise(vector: number[]): number[] {
  const length = Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
  return length === 0 ? vector : vector.map((value) => value / length);
}

function dot(a: number[], b: number[]): number {
  return a.reduce((sum, value, i) => sum + value * b[i], 0);
}
