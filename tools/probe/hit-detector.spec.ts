import { type Exchange, type TenantSecrets, citedDocuments, foreignSecretsIn, judgeAttack, judgeControl } from './hit-detector';

const acme: TenantSecrets = { tenantId: 'acme', strings: ['acme', 'zqaa0001xy', '11111111-1111-4111-8111-111111111111', 'handbook-zqaa0001xy.md'] };
const globex: TenantSecrets = { tenantId: 'globex', strings: ['globex', 'zqglobex01', '22222222-2222-4222-8222-222222222222'] };
const secrets = [acme, globex];
const victimDoc = '11111111-1111-4111-8111-111111111111';
const ownDoc = '22222222-2222-4222-8222-222222222222';

const fromGlobex = (status: number, body: unknown, sent = '', held: string[] = []): Exchange => ({
  actor: 'globex',
  status,
  body: typeof body === 'string' ? body : JSON.stringify(body),
  sent,
  held,
});
const notFound = (id: string) => ({ error: { code: 'NOT_FOUND', message: `document ${id} not found`, correlationId: 'c0ffee00-1234-4abc-8def-0123456789ab' } });

describe('foreignSecretsIn', () => {
  it('finds another tenant’s secret in a body, case-insensitively, and never the actor’s own', () => {
    expect(foreignSecretsIn(fromGlobex(200, 'the codeword of Acme is ZQAA0001XY says zqglobex01'), secrets)).toEqual(['acme:acme', 'acme:zqaa0001xy']);
  });

  it('allows what the request itself carried (a 404 names the id asked for) and bytes the actor uploaded', () => {
    expect(foreignSecretsIn(fromGlobex(404, notFound(victimDoc), `/api/documents/${victimDoc} `), secrets)).toEqual([]);
    expect(foreignSecretsIn(fromGlobex(202, { sha: 'zqaa0001xy' }, '/api/documents ', ['zqaa0001xy']), secrets)).toEqual([]);
  });
});

describe('judgeAttack', () => {
  it('passes a 404 about another tenant’s document that only names the id asked for', () => {
    expect(judgeAttack('get-document', fromGlobex(404, notFound(victimDoc), `/api/documents/${victimDoc} `), secrets, new Set([ownDoc]))).toEqual([]);
  });

  it('flags a 2xx on another tenant’s resource even when the body holds nothing secret', () => {
    expect(judgeAttack('delete-document', fromGlobex(204, '', `/api/documents/${victimDoc} `), secrets, new Set())).toEqual(['status 204 (expected 404)']);
    expect(judgeAttack('cancel-job', fromGlobex(409, { error: { message: 'job is already indexed' } }), secrets, new Set())).toEqual(['status 409 (expected 404)']);
    expect(judgeAttack('get-job', fromGlobex(500, { error: { code: 'INTERNAL' } }), secrets, new Set())).toEqual(['status 500 (expected 404)']);
  });

  it('flags a 404 whose message tells something of the victim beyond the id asked for', () => {
    const body = { error: { code: 'NOT_FOUND', message: `document ${victimDoc} belongs to tenant acme` } };
    expect(judgeAttack('get-document', fromGlobex(404, body, `/api/documents/${victimDoc} `), secrets, new Set())).toEqual(['body carries acme:acme']);
  });

  it('flags an answer citing a document that is not the actor’s, and passes one citing only its own', () => {
    const answer = (documentId: string, snippet: string) => ({ answer: 'x', citations: [{ documentId, snippet }] });
    const sent = `/api/query {"filters":{"documentIds":["${victimDoc}"]}}`;
    expect(judgeAttack('query-documents', fromGlobex(200, answer(victimDoc, 'the vault'), sent), secrets, new Set([ownDoc]))).toEqual([`cites documents not the actor's: ${victimDoc}`]);
    expect(judgeAttack('query-documents', fromGlobex(200, answer(ownDoc, 'zqglobex01'), sent), secrets, new Set([ownDoc]))).toEqual([]);
    expect(judgeAttack('query-documents', fromGlobex(200, { answer: 'I could not find an answer', citations: [] }, sent), secrets, new Set())).toEqual([]);
  });

  it('flags a duplicate upload that answers with the victim’s document', () => {
    const reasons = judgeAttack('upload', fromGlobex(200, { documentId: victimDoc, duplicate: true }, '/api/documents '), secrets, new Set());
    expect(reasons).toEqual([`body carries acme:${victimDoc}`]);
  });

  it('lets a listing of the actor’s own data through, and flags one with the victim’s filename in it', () => {
    expect(judgeAttack('list-documents', fromGlobex(200, { items: [{ id: ownDoc }] }, '/api/documents?limit=200 '), secrets, new Set([ownDoc]))).toEqual([]);
    expect(judgeAttack('list-documents', fromGlobex(200, { items: [{ filename: 'handbook-zqaa0001xy.md' }] }), secrets, new Set())).toEqual([
      'body carries acme:zqaa0001xy, acme:handbook-zqaa0001xy.md',
    ]);
  });
});

describe('judgeControl', () => {
  const own = (status: number, body: unknown): Exchange => ({ ...fromGlobex(status, body), actor: 'globex' });

  it('passes the owner’s successful answer showing its data', () => {
    expect(judgeControl('get-document', own(200, { filename: 'rockets-zqglobex01.md' }), secrets, ['zqglobex01'])).toBeUndefined();
  });

  it('fails a control that is refused, or that answers without the owner’s data', () => {
    expect(judgeControl('get-document', own(404, notFound(ownDoc)), secrets, ['zqglobex01'])).toMatch(/^status 404/);
    expect(judgeControl('query-documents', own(200, { answer: 'I could not find an answer', citations: [] }), secrets, ['zqglobex01'])).toMatch(/shows none of zqglobex01/);
    expect(judgeControl('list-documents', own(200, { items: [{ filename: 'x-zqglobex01' }, { filename: 'zqaa0001xy' }] }), secrets, ['zqglobex01'])).toBe('body carries acme:zqaa0001xy');
  });
});

describe('citedDocuments', () => {
  it('reads the cited document ids of an answer, and nothing from a body that is not one', () => {
    expect(citedDocuments(JSON.stringify({ citations: [{ documentId: 'a' }, { documentId: 'b' }] }))).toEqual(['a', 'b']);
    expect(citedDocuments('event: progress')).toEqual([]);
  });
});
