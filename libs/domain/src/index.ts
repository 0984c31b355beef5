export * from './errors/domain-error';
export * from './text';
