export * from './correlation';
export * from './logger';
export * from './metrics';
export * from './nest-logger';
export * from './tracing';
