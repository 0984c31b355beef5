import { Injectable } from '@nestjs/common';
import { ErrorCode } from '@quarry/contracts';
import { type ApiKeyRole, DomainError, roleAllows } from '@quarry/domain';
import { type ApiKeyRecord, ApiKeyRepository } from '@quarry/persistence';
import type { ApiKeyList, ApiKeyView, CreatedApiKey } from './keys.schemas';
import type { RequestAuth } from './request-auth';
import { RevocationBus } from './revocation-bus';

const iso = (date: Date | null) => date?.toISOString() ?? null;

export const toApiKeyView = (record: ApiKeyRecord): ApiKeyView => ({
  id: record.id,
  name: record.name,
  role: record.role,
  prefix: record.displayPrefix,
  createdAt: record.createdAt.toISOString(),
  expiresAt: iso(record.expiresAt),
  lastUsedAt: iso(record.lastUsedAt),
  revokedAt: iso(record.revokedAt),
});

/** Key management for a tenant's admins: create (the secret is shown once), list, revoke. */
@Injectable()
export class KeysService {
  constructor(
    private readonly keys: ApiKeyRepository,
    private readonly revocations: RevocationBus,
  ) {}

  async create(caller: RequestAuth, input: { name: string; role: ApiKeyRole; expiresAt?: string }): Promise<CreatedApiKey> {
    if (!roleAllows(caller.role, input.role)) {
      throw new DomainError(ErrorCode.Forbidden, `a key with the ${caller.role} role cannot create a key with the higher ${input.role} role`);
    }
    const expiresAt = input.expiresAt === undefined ? null : new Date(input.expiresAt);
    if (expiresAt && expiresAt.getTime() <= Date.now()) throw new DomainError(ErrorCode.InvalidPayload, 'expiresAt: must be in the future');
    const { record, key } = await this.keys.issue({ tenantId: caller.tenantId, name: input.name, role: input.role, expiresAt });
    return { ...toApiKeyView(record), key };
  }

  async list(tenantId: string): Promise<ApiKeyList> {
    return { items: (await this.keys.list(tenantId)).map(toApiKeyView) };
  }

  /** Revokes the key on every gateway at once; another tenant's key is as unknown as a missing one. */
  async revoke(tenantId: string, id: string): Promise<void> {
    const revoked = await this.keys.revoke(tenantId, id);
    if (!revoked) throw new DomainError(ErrorCode.NotFound, `key ${id} not found`);
    await this.revocations.publish(revoked.keyHash);
  }
}
