// The Qdrant backend's public surface; schema and error helpers stay internal to the folder.
export { qdrantCollectionName } from './qdrant-schema';
export {
  DEFAULT_QDRANT_OPTIONS,
  QdrantSearchIndex,
  qdrantSearchIndexFromEnv,
  type QdrantEnv,
  type QdrantSearchIndexOptions,
} from './qdrant-search-index';
export { DEFAULT_SPARSE_BM25_OPTIONS, SparseBm25Encoder, type SparseBm25Options, type SparseVector } from './sparse-bm25';
