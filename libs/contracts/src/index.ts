export * from './agent.contract';
export * from './common.schema';
export * from './error-codes';
export * from './ingestion.contract';
export * from './jobs';
export * from './queues';
export * from './retrieval.contract';
export * from './scheduler.contract';
