export * from './fake-openai-server';
export * from './free-port';
export * from './isolated-stack';
export * from './repo-root';
export * from './service-stack';
export * from './test-database';
export * from './test-redis';
export * from './wait-for';
