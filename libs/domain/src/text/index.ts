export * from './stem';
export * from './stop-words';
export * from './tokenize';
