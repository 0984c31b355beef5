/**
 * The Redis pub/sub channel revoked key hashes travel on: every gateway listens, and whoever
 * revokes (a gateway, the `npm run keys` CLI) publishes there.
 */
export const revocationChannel = (redisPrefix: string) => `${redisPrefix}:api-keys:revoked`;
