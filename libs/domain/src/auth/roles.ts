/**
 * What a key may do, within its own tenant. Each role includes the ones before it:
 * `read` (query, list, get, stream), `write` (+ upload, delete, cancel), `admin` (+ manage keys,
 * and every operator endpoint).
 */
export const API_KEY_ROLES = ['read', 'write', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export function isApiKeyRole(value: unknown): value is ApiKeyRole {
  return typeof value === 'string' && (API_KEY_ROLES as readonly string[]).includes(value);
}

/** True when `held` is `required` or a role above it. */
export function roleAllows(held: ApiKeyRole, required: ApiKeyRole): boolean {
  return API_KEY_ROLES.indexOf(held) >= API_KEY_ROLES.indexOf(required);
}
