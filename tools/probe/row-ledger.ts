import type { TenantSnapshot } from '@quarry/testing';

export type { TableRows, TenantSnapshot } from '@quarry/testing';

/** New rows a tenant's own successful requests account for, by table (any table not named: none). */
export type ExpectedNewRows = Partial<Record<string, number>>;

export interface AuditRules {
  /** Columns that may change on a tenant's own use (`table.column`), e.g. `api_keys.last_used_at`. */
  mutableColumns: readonly string[];
  /** Rows (`table/key`) the tenant's own controls may touch, with the columns they may change. */
  mutableRows?: Readonly<Record<string, readonly string[]>>;
  /** New messages each pre-existing conversation of the tenant may get (any other: none). */
  newMessagesIn?: Readonly<Record<string, number>>;
  /** Tables whose new rows are searched for other tenants' secrets (not uploads: an uploader holds the bytes it sent). */
  scannedTables: readonly string[];
  foreignSecrets: readonly string[];
}

/**
 * Everything wrong with a tenant's rows after the probe: a row that existed before and was deleted
 * or changed (beyond what the tenant's own use may change), more or fewer new rows than the
 * tenant's own successful requests made, messages added to a conversation nobody of the tenant
 * continued, or a new row carrying another tenant's secret.
 */
export function auditTenantRows(before: TenantSnapshot, after: TenantSnapshot, expected: ExpectedNewRows, rules: AuditRules): string[] {
  const problems: string[] = [];
  const mutable = new Set(rules.mutableColumns);
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const old = before[table] ?? {};
    const now = after[table] ?? {};
    for (const [key, row] of Object.entries(old)) {
      const current = now[key];
      if (!current) {
        problems.push(`${table} ${key}: deleted`);
        continue;
      }
      const allowed = rules.mutableRows?.[`${table}/${key}`] ?? [];
      const changed = [...new Set([...Object.keys(row), ...Object.keys(current)])].filter(
        (column) => !mutable.has(`${table}.${column}`) && !allowed.includes(column) && JSON.stringify(row[column]) !== JSON.stringify(current[column]),
      );
      if (changed.length > 0) problems.push(`${table} ${key}: ${changed.map((column) => `${column} ${JSON.stringify(row[column])} → ${JSON.stringify(current[column])}`).join(', ')}`);
    }
    const added = Object.entries(now).filter(([key]) => !(key in old));
    const wanted = expected[table] ?? 0;
    if (added.length !== wanted) problems.push(`${table}: ${added.length} new rows, the tenant's own requests made ${wanted}`);
    if (rules.scannedTables.includes(table)) {
      for (const [key, row] of added) {
        const text = JSON.stringify(row).toLowerCase();
        const found = rules.foreignSecrets.filter((secret) => text.includes(secret.toLowerCase()));
        if (found.length > 0) problems.push(`${table} ${key}: new row carries another tenant's ${found.join(', ')}`);
      }
    }
    if (table === 'messages') {
      const existing = new Set(Object.keys(before.conversations ?? {}));
      const counts = new Map<string, number>();
      for (const [, row] of added) {
        const conversation = String(row.conversation_id);
        if (existing.has(conversation)) counts.set(conversation, (counts.get(conversation) ?? 0) + 1);
      }
      for (const conversation of new Set([...counts.keys(), ...Object.keys(rules.newMessagesIn ?? {})])) {
        const got = counts.get(conversation) ?? 0;
        const allowed = rules.newMessagesIn?.[conversation] ?? 0;
        if (got !== allowed) problems.push(`conversation ${conversation}: ${got} new messages, the tenant's own requests added ${allowed}`);
      }
    }
  }
  return problems;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const IDENTIFYING_COLUMNS = new Set(['filename', 'sha256', 'display_prefix', 'key_hash', 'title', 'queue_job_id', 'name']);

/**
 * The strings that identify a tenant's rows and must never reach another tenant: every id
 * (documents, chunks, conversations, messages, keys, query log, correlation ids), filenames,
 * content hashes, key prefixes and hashes, key names, conversation titles (8 characters or more).
 */
export function identifyingStrings(snapshot: TenantSnapshot): string[] {
  const found = new Set<string>();
  for (const [table, rows] of Object.entries(snapshot)) {
    for (const row of Object.values(rows)) {
      for (const [column, value] of Object.entries(row)) {
        if (typeof value !== 'string') continue;
        const text = value.trim();
        if (UUID.test(text) || (IDENTIFYING_COLUMNS.has(column) && table !== 'tenants')) found.add(text);
      }
    }
  }
  return [...found].filter((text) => text.length >= 8);
}
