import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { QuotaCheckedUpload, QuotaDefaults } from '@quarry/persistence';
import type { GatewayConfig } from '../config';

type QuotaConfig = Pick<GatewayConfig, 'TENANT_MAX_DOCUMENTS' | 'TENANT_MAX_STORED_BYTES'>;

/** The deployment's quotas; each tenant's `max_documents` / `max_stored_bytes` columns override them. */
export function quotaDefaults(config: QuotaConfig): QuotaDefaults {
  return { maxDocuments: config.TENANT_MAX_DOCUMENTS, maxStoredBytes: config.TENANT_MAX_STORED_BYTES };
}

const ASK = 'delete documents, or ask the operator to raise the quota';

/**
 * What the uploader is told when a file would break a quota: 403 QUOTA_EXCEEDED for the number of
 * documents (the tenant may not have more, whatever their size), 413 STORAGE_QUOTA_EXCEEDED for
 * bytes (this file is too large for the room left; a smaller one may still fit).
 */
export function quotaRefusal(tenantId: string, file: { filename: string; size: number }, refusal: Extract<QuotaCheckedUpload, { outcome: 'refused' }>): DomainError {
  const { usage } = refusal;
  if (refusal.quota === 'documents') {
    return new DomainError(ErrorCode.QuotaExceeded, `tenant ${tenantId} has reached its quota of ${usage.maxDocuments} documents; ${ASK}`);
  }
  const left = Math.max(0, usage.maxStoredBytes - usage.storedBytes);
  return new DomainError(
    ErrorCode.StorageQuotaExceeded,
    `"${file.filename}" (${file.size} bytes) does not fit in the storage quota of tenant ${tenantId}: ` +
      `${usage.storedBytes} of ${usage.maxStoredBytes} bytes are in use, ${left} left; ${ASK}`,
  );
}
