import type { EmbeddingTargets } from './embedding-targets.service';

/** A document's chunk vectors for the active embedding version, and for the one being built. */
export interface VersionedVectors {
  model: string;
  dimensions: number;
  active: Float32Array[];
  building?: { versionId: number; dimensions: number; vectors: Float32Array[] };
}

/** True when the vectors were made for exactly these versions (else they must be made again). */
export function matchesTargets(vectors: VersionedVectors, targets: EmbeddingTargets): boolean {
  return vectors.model === targets.active.version.model && (vectors.building?.versionId ?? null) === (targets.building?.version.id ?? null);
}

/** Packs the vectors into one buffer for the `embeddings` artifact (active first, then building). */
export function packVectors(vectors: VersionedVectors): { bytes: Buffer; data: Omit<VersionedVectors, 'active' | 'building'> & { count: number; building?: { versionId: number; dimensions: number } } } {
  const all = [...vectors.active, ...(vectors.building?.vectors ?? [])];
  const bytes = Buffer.concat(all.map((vector) => Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength)));
  return {
    bytes,
    data: {
      model: vectors.model,
      dimensions: vectors.dimensions,
      count: vectors.active.length,
      ...(vectors.building ? { building: { versionId: vectors.building.versionId, dimensions: vectors.building.dimensions } } : {}),
    },
  };
}

export function unpackVectors(all: Float32Array, data: ReturnType<typeof packVectors>['data']): VersionedVectors {
  const slice = (from: number, dimensions: number, count: number) =>
    Array.from({ length: count }, (_, index) => all.subarray(from + index * dimensions, from + (index + 1) * dimensions));
  const active = slice(0, data.dimensions, data.count);
  return {
    model: data.model,
    dimensions: data.dimensions,
    active,
    ...(data.building
      ? { building: { versionId: data.building.versionId, dimensions: data.building.dimensions, vectors: slice(data.count * data.dimensions, data.building.dimensions, data.count) } }
      : {}),
  };
}
