export * from './deep-health';
export { DeepHealthController } from './deep-health.controller';
export { DEEP_HEALTH, type QueueDependencies, deepHealthChecks, deepHealthProviders, modelDeepHealth, queueDeepHealth } from './kit-deep-health';
export * from './model-endpoint-check';
export { ownWorkerCheck, queueConsumersCheck } from './queue-checks';
export * from './redis-policy';
