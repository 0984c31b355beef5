export * from './job-propagation';
export * from './server-span';
export * from './spans';
export * from './start-tracing';
