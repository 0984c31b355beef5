export * from './api-key-format';
export * from './roles';
export * from './revocation-channel';
