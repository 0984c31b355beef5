export * from './spans';
export * from './start-tracing';
