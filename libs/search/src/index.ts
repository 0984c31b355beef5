export * from './bm25-index';
export * from './in-memory-hybrid-index';
export * from './reciprocal-rank-fusion';
export * from './search-filters';
export * from './search-index.port';
export * from './top-k';
export * from './vector-index';
export * from './weighted-score-fusion';
