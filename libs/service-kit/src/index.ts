export * from './correlation.interceptor';
export * from './dependency-check';
export * from './main-runner';
export * from './readiness';
export * from './run-service';
export * from './service-kit';
export * from './service-kit.module';
export * from './tokens';
export { BULLMQ_SERVER } from './ops.controller';
