/** Injection tokens for what every service gets from the kit. */
export const LOGGER = Symbol('LOGGER');
export const METRICS = Symbol('METRICS');
export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const JOB_CLIENT = Symbol('JOB_CLIENT');
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const READINESS = Symbol('READINESS');
