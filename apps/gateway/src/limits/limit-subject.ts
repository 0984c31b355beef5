import type { RequestAuth } from '../auth/request-auth';

/** Who a per-caller limit (requests per minute, open progress streams) counts against. */
export interface LimitSubject {
  /** The counter's name: `key:<api key id>`, or `tenant:<id>` when there is no key. */
  id: string;
  /** How messages name it to the caller. */
  noun: 'API key' | 'tenant';
}

/**
 * Limits are per API key, so that one leaked or runaway key cannot use up what its tenant's other
 * keys need. Behind an authenticating proxy (AUTH_MODE=trusted-header) there is no key: the tenant
 * the proxy names is all the gateway knows, so the tenant is limited as a whole.
 */
export function limitSubject(auth: RequestAuth): LimitSubject {
  return auth.keyId === null ? { id: `tenant:${auth.tenantId}`, noun: 'tenant' } : { id: `key:${auth.keyId}`, noun: 'API key' };
}
