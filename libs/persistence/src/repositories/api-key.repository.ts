import { type ApiKeyRole, generateApiKey } from '@quarry/domain';
import type { DataSource, EntityManager } from 'typeorm';

/** An API key as listed: everything but the secret (which is never stored) and its hash. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  role: ApiKeyRole;
  displayPrefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** A key just created: its record and the secret, which exists only in this value. */
export interface IssuedApiKey {
  record: ApiKeyRecord;
  key: string;
}

export interface NewApiKey {
  tenantId: string;
  name: string;
  role: ApiKeyRole;
  expiresAt?: Date | null;
}

interface ApiKeyRow {
  id: string;
  tenant_id: string;
  name: string;
  role: ApiKeyRole;
  display_prefix: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, tenant_id, name, role, display_prefix, created_at, expires_at, last_used_at, revoked_at';

const toRecord = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  tenantId: row.tenant_id,
  name: row.name,
  role: row.role,
  displayPrefix: row.display_prefix,
  createdAt: row.created_at,
  expiresAt: row.expires_at,
  lastUsedAt: row.last_used_at,
  revokedAt: row.revoked_at,
});

// Any fixed 64-bit key (distinct from the migration lock's): gateways booting together take turns
// deciding whether the first key must be created, so exactly one is.
const FIRST_KEY_LOCK = 7_104_215_552;

/**
 * API keys. Every method is scoped by tenant except `findByHash`, which is the authentication
 * lookup itself (the key decides the tenant), and the operator's `revokeAnyTenant` (the CLI, which
 * acts for every tenant by design).
 */
export class ApiKeyRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Creates a key for the tenant (and the tenant, on first use); the secret is returned once. */
  issue(input: NewApiKey): Promise<IssuedApiKey> {
    return this.dataSource.transaction((manager) => this.insert(manager, input));
  }

  /**
   * Creates the key only when no key exists at all (revoked ones count: an operator who revoked
   * every key did not ask for a new one). Concurrent callers take turns on an advisory lock, so
   * gateways booting together create one key between them. Undefined when keys already exist.
   */
  issueFirstKey(input: NewApiKey): Promise<IssuedApiKey | undefined> {
    return this.dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock($1)', [FIRST_KEY_LOCK]);
      const [{ exists }] = await manager.query<Array<{ exists: boolean }>>('SELECT EXISTS (SELECT 1 FROM api_keys) AS exists');
      return exists ? undefined : this.insert(manager, input);
    });
  }

  /** The tenant's keys, newest first, revoked and expired ones included. */
  async list(tenantId: string): Promise<ApiKeyRecord[]> {
    const rows: ApiKeyRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM api_keys WHERE tenant_id = $1 ORDER BY created_at DESC, id`, [tenantId]);
    return rows.map(toRecord);
  }

  /**
   * The authentication lookup: the key with this hash, whatever its tenant, state or expiry.
   * @allTenants the key decides the tenant: a hash of 178 random bits is the only thing to look up by.
   */
  async findByHash(keyHash: string): Promise<ApiKeyRecord | undefined> {
    const rows: ApiKeyRow[] = await this.dataSource.query(`SELECT ${COLUMNS} FROM api_keys WHERE key_hash = $1`, [keyHash]);
    return rows[0] && toRecord(rows[0]);
  }

  /**
   * Revokes one of the tenant's keys (again is harmless: the first revocation time stays). Returns
   * the key's hash, which the gateways evict from their caches, or undefined when the tenant has no
   * key with this id.
   */
  async revoke(tenantId: string, id: string): Promise<{ keyHash: string } | undefined> {
    // TypeORM answers an UPDATE with [rows, affected count].
    const [rows]: [Array<{ key_hash: string }>, number] = await this.dataSource.query(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE tenant_id = $1 AND id = $2 RETURNING key_hash',
      [tenantId, id],
    );
    return rows[0] && { keyHash: rows[0].key_hash };
  }

  /**
   * The operator's revocation (CLI): by id alone, whichever tenant owns the key.
   * @allTenants operator work: the CLI runs on the operator's machine with database access, for every tenant.
   */
  async revokeAnyTenant(id: string): Promise<{ tenantId: string; keyHash: string } | undefined> {
    const [rows]: [Array<{ tenant_id: string; key_hash: string }>, number] = await this.dataSource.query(
      'UPDATE api_keys SET revoked_at = COALESCE(revoked_at, now()) WHERE id = $1 RETURNING tenant_id, key_hash',
      [id],
    );
    return rows[0] && { tenantId: rows[0].tenant_id, keyHash: rows[0].key_hash };
  }

  /** Records a use of the key (never moving the time backwards). */
  async touchLastUsed(tenantId: string, id: string, at: Date): Promise<void> {
    await this.dataSource.query('UPDATE api_keys SET last_used_at = $3 WHERE tenant_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $3)', [
      tenantId,
      id,
      at,
    ]);
  }

  private async insert(manager: EntityManager, input: NewApiKey): Promise<IssuedApiKey> {
    const { key, hash, displayPrefix } = generateApiKey();
    await manager.query('INSERT INTO tenants (id, name) VALUES ($1, $1) ON CONFLICT (id) DO NOTHING', [input.tenantId]);
    const rows: ApiKeyRow[] = await manager.query(
      `INSERT INTO api_keys (tenant_id, name, role, display_prefix, key_hash, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING ${COLUMNS}`,
      [input.tenantId, input.name, input.role, displayPrefix, hash, input.expiresAt ?? null],
    );
    return { record: toRecord(rows[0]), key };
  }
}
