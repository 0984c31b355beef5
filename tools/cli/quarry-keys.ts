/**
 * `npm run keys -- create --tenant ID --role read|write|admin [--name TEXT] [--expires-in 30d | --expires ISO] [--json]`
 * `npm run keys -- list --tenant ID [--json]`
 * `npm run keys -- revoke KEY_ID`
 * `npm run keys -- quota --tenant ID [--max-documents N|default] [--max-stored-bytes N|default]`
 *
 * The operator's key management, straight against the database (DATABASE_URL, DATABASE_SCHEMA) —
 * for any tenant, including one that has no key yet (the gateway's /api/keys acts only inside the
 * caller's tenant). `create` prints the secret on stdout and nothing else, so it can be captured
 * (`KEY=$(npm run -s keys -- create …)`); everything said for people goes to stderr. A revocation is
 * also published to Redis (REDIS_URL, REDIS_PREFIX), so every running gateway drops the key at once.
 * `quota` sets a tenant's own quotas (0: no limit; `default`: back to TENANT_MAX_DOCUMENTS /
 * TENANT_MAX_STORED_BYTES) and prints what the tenant holds against them.
 */
import { parseArgs } from 'node:util';
import { databaseEnv, limitsEnv, loadConfig, redisEnv } from '@quarry/config';
import { TenantId } from '@quarry/contracts';
import { isApiKeyRole, revocationChannel } from '@quarry/domain';
import {
  type ApiKeyRecord,
  ApiKeyRepository,
  type DataSource,
  TenantQuotaRepository,
  createDataSource,
  ensureDatabaseAndSchema,
  runMigrationsExclusively,
} from '@quarry/persistence';
import Redis from 'ioredis';
import { parseExpiry } from './key-expiry';

const USAGE = `usage:
  npm run keys -- create --tenant ID --role read|write|admin [--name TEXT] [--expires-in 30d | --expires ISO-DATE] [--json]
  npm run keys -- list --tenant ID [--json]
  npm run keys -- revoke KEY_ID
  npm run keys -- quota --tenant ID [--max-documents N|default] [--max-stored-bytes N|default]`;

class UsageError extends Error {}

const config = loadConfig(databaseEnv.extend(redisEnv.shape).extend(limitsEnv.shape));

async function openDatabase(): Promise<DataSource> {
  await ensureDatabaseAndSchema({ url: config.DATABASE_URL, schema: config.DATABASE_SCHEMA });
  const dataSource = await createDataSource({
    url: config.DATABASE_URL,
    schema: config.DATABASE_SCHEMA,
    poolMax: 2,
    statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
    applicationName: 'quarry-keys-cli',
  }).initialize();
  // The CLI may run before any gateway ever booted: the api_keys table must exist.
  await runMigrationsExclusively(dataSource);
  return dataSource;
}

function tenantOf(value: string | undefined): string {
  if (value === undefined) throw new UsageError('--tenant is required');
  const parsed = TenantId.safeParse(value);
  if (!parsed.success) throw new UsageError(`--tenant: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** A quota option: a whole number (0: no limit), `default` (null: the deployment's default), or absent (unchanged). */
function quotaOption(name: string, value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (value === 'default') return null;
  if (!/^\d{1,15}$/.test(value)) throw new UsageError(`${name} must be a whole number (0: no limit) or "default"`);
  return Number(value);
}

const describe = (record: ApiKeyRecord) =>
  `${record.id}  ${record.displayPrefix}…  ${record.role.padEnd(5)}  ${record.revokedAt ? 'revoked' : record.expiresAt && record.expiresAt <= new Date() ? 'expired' : 'active '}  ${record.name}`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      role: { type: 'string' },
      name: { type: 'string' },
      expires: { type: 'string' },
      'expires-in': { type: 'string' },
      json: { type: 'boolean', default: false },
      'max-documents': { type: 'string' },
      'max-stored-bytes': { type: 'string' },
    },
  });
  const [command, ...rest] = positionals;
  if (command === 'create') {
    const tenantId = tenantOf(values.tenant);
    if (!isApiKeyRole(values.role)) throw new UsageError('--role must be read, write or admin');
    const role = values.role;
    const expiresAt = parseExpiry({ at: values.expires, in: values['expires-in'] });
    const dataSource = await openDatabase();
    try {
      const { record, key } = await new ApiKeyRepository(dataSource).issue({ tenantId, role, name: values.name ?? `${role} key (CLI)`, expiresAt });
      if (values.json) console.log(JSON.stringify({ id: record.id, tenantId, role, name: record.name, expiresAt: record.expiresAt, key }));
      else {
        console.error(`created a ${role} key for tenant "${tenantId}" (id ${record.id}${expiresAt ? `, expires ${expiresAt.toISOString()}` : ''}); it is shown only this once:`);
        console.log(key);
      }
    } finally {
      await dataSource.destroy();
    }
    return 0;
  }
  if (command === 'list') {
    const tenantId = tenantOf(values.tenant);
    const dataSource = await openDatabase();
    try {
      const records = await new ApiKeyRepository(dataSource).list(tenantId);
      if (values.json) console.log(JSON.stringify(records));
      else if (records.length === 0) console.error(`tenant "${tenantId}" has no keys`);
      else for (const record of records) console.log(describe(record));
    } finally {
      await dataSource.destroy();
    }
    return 0;
  }
  if (command === 'revoke') {
    const id = rest[0];
    if (!id || !/^[0-9a-f-]{36}$/i.test(id)) throw new UsageError('revoke needs the key id (a UUID, as `list` shows it)');
    const dataSource = await openDatabase();
    let revoked: Awaited<ReturnType<ApiKeyRepository['revokeAnyTenant']>>;
    try {
      revoked = await new ApiKeyRepository(dataSource).revokeAnyTenant(id);
    } finally {
      await dataSource.destroy();
    }
    if (!revoked) {
      console.error(`no key with id ${id}`);
      return 1;
    }
    const told = await publishRevocation(revoked.keyHash);
    console.error(
      `revoked key ${id} of tenant "${revoked.tenantId}"; ${told ? 'every running gateway dropped it' : 'Redis could not be told: running gateways drop it within a minute'}`,
    );
    return 0;
  }
  if (command === 'quota') {
    const tenantId = tenantOf(values.tenant);
    const overrides = { maxDocuments: quotaOption('--max-documents', values['max-documents']), maxStoredBytes: quotaOption('--max-stored-bytes', values['max-stored-bytes']) };
    const dataSource = await openDatabase();
    try {
      const quotas = new TenantQuotaRepository(dataSource);
      if (overrides.maxDocuments !== undefined || overrides.maxStoredBytes !== undefined) await quotas.setQuota(tenantId, overrides);
      const usage = await quotas.usage(tenantId, { maxDocuments: config.TENANT_MAX_DOCUMENTS, maxStoredBytes: config.TENANT_MAX_STORED_BYTES });
      const of = (held: number, max: number) => `${held} of ${max === 0 ? 'unlimited' : max}`;
      if (values.json) console.log(JSON.stringify({ tenantId, ...usage }));
      else console.log(`tenant "${tenantId}": documents ${of(usage.documents, usage.maxDocuments)}, stored bytes ${of(usage.storedBytes, usage.maxStoredBytes)}`);
    } finally {
      await dataSource.destroy();
    }
    return 0;
  }
  throw new UsageError(command ? `unknown command "${command}"` : 'a command is required');
}

async function publishRevocation(keyHash: string): Promise<boolean> {
  const redis = new Redis(config.REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 3000 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.publish(revocationChannel(config.REDIS_PREFIX), keyHash);
    return true;
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      console.error(`${(error as Error).message}\n${USAGE}`);
      process.exit(2);
    }
    console.error(`keys: ${(error as Error).message}`);
    process.exit(1);
  },
);
