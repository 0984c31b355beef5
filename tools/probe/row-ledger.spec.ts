import { type AuditRules, type TenantSnapshot, auditTenantRows, identifyingStrings } from './row-ledger';

const CONVERSATION = 'c1c1c1c1-0000-4000-8000-000000000001';
const OTHER_CONVERSATION = 'c2c2c2c2-0000-4000-8000-000000000002';

function snapshot(): TenantSnapshot {
  return {
    documents: { d1: { id: 'd1d1d1d1-0000-4000-8000-000000000001', filename: 'handbook-zqacme0001.md', status: 'indexed', sha256: 'ab'.repeat(32) } },
    api_keys: { k1: { id: 'k1', name: 'read key zqacme0001', last_used_at: null, revoked_at: null } },
    conversations: {
      [CONVERSATION]: { id: CONVERSATION, title: 'What is the vault code? zqacme0001', updated_at: 't1' },
      [OTHER_CONVERSATION]: { id: OTHER_CONVERSATION, title: 'Who reviews it?', updated_at: 't1' },
    },
    messages: { m1: { id: 'm1', conversation_id: CONVERSATION, content: 'q' } },
    query_log: {},
  };
}
const rules: AuditRules = {
  mutableColumns: ['api_keys.last_used_at'],
  mutableRows: { [`conversations/${CONVERSATION}`]: ['updated_at'] },
  newMessagesIn: { [CONVERSATION]: 2 },
  scannedTables: ['conversations', 'messages', 'query_log'],
  foreignSecrets: ['zqglobex01'],
};
const withOwnContinuation = (after: TenantSnapshot) => {
  after.messages.m2 = { id: 'm2', conversation_id: CONVERSATION, content: 'q2' };
  after.messages.m3 = { id: 'm3', conversation_id: CONVERSATION, content: 'a2' };
  after.query_log.q1 = { id: 'q1', question: 'q2' };
  after.conversations[CONVERSATION].updated_at = 't2';
  return after;
};

describe('auditTenantRows', () => {
  it('accepts rows unchanged but for what the tenant’s own use may change and the new rows its requests made', () => {
    const after = withOwnContinuation(snapshot());
    after.api_keys.k1.last_used_at = 't3';
    expect(auditTenantRows(snapshot(), after, { messages: 2, query_log: 1 }, rules)).toEqual([]);
  });

  it('reports a row deleted or changed by someone else', () => {
    const after = withOwnContinuation(snapshot());
    delete after.documents.d1;
    after.api_keys.k1.revoked_at = 't4';
    after.conversations[OTHER_CONVERSATION].title = 'hijacked';
    expect(auditTenantRows(snapshot(), after, { messages: 2, query_log: 1 }, rules)).toEqual([
      'documents d1: deleted',
      'api_keys k1: revoked_at null → "t4"',
      `conversations ${OTHER_CONVERSATION}: title "Who reviews it?" → "hijacked"`,
    ]);
  });

  it('reports new rows the tenant’s own requests do not account for, and messages in a conversation nobody continued', () => {
    const after = withOwnContinuation(snapshot());
    after.messages.m4 = { id: 'm4', conversation_id: OTHER_CONVERSATION, content: 'x' };
    after.messages.m5 = { id: 'm5', conversation_id: OTHER_CONVERSATION, content: 'y' };
    after.documents.d2 = { id: 'd2' };
    expect(auditTenantRows(snapshot(), after, { messages: 4, query_log: 1 }, rules)).toEqual([
      "documents: 1 new rows, the tenant's own requests made 0",
      `conversation ${OTHER_CONVERSATION}: 2 new messages, the tenant's own requests added 0`,
    ]);
  });

  it('reports a new row carrying another tenant’s secret', () => {
    const after = withOwnContinuation(snapshot());
    after.messages.m3.content = 'The vault code is ZQGLOBEX01';
    expect(auditTenantRows(snapshot(), after, { messages: 2, query_log: 1 }, rules)).toEqual(["messages m3: new row carries another tenant's zqglobex01"]);
  });
});

describe('identifyingStrings', () => {
  it('collects ids, filenames, hashes, key names and titles of 8 characters or more', () => {
    expect(identifyingStrings(snapshot()).sort()).toEqual(
      [
        'ab'.repeat(32),
        CONVERSATION,
        OTHER_CONVERSATION,
        'Who reviews it?',
        'What is the vault code? zqacme0001',
        'd1d1d1d1-0000-4000-8000-000000000001',
        'handbook-zqacme0001.md',
        'read key zqacme0001',
      ].sort(),
    );
  });
});
