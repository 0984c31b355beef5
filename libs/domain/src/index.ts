export * from './auth';
export * from './errors/dependency-outage';
export * from './errors/domain-error';
export * from './errors/unstorable-data';
export * from './text';
export { abortReason, abortableDelay, raceAbort } from './async/abortable';
export { withinDeadline } from './async/deadline';
