export * from './beir-dataset';
export * from './ranking-metrics';
