import { readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/*
 * Every public repository method either takes the tenant — its first parameter is `tenantId:
 * string`, or an object (or array of objects) that carries `tenantId: string` — or says in its doc
 * comment that it is system work across all tenants (`@allTenants <why>`). A method added without
 * either fails here, so a query keyed only by a client's id cannot slip in unnoticed. (That a
 * method uses the tenant in its WHERE is what the cross-tenant tests check.)
 */
const REPOSITORIES = path.join(__dirname, '../src/repositories');
const ROOT = path.join(__dirname, '../../..');

interface MethodVerdict {
  method: string;
  scoped: boolean;
  allTenants: string | undefined;
}

function analyse(): MethodVerdict[] {
  const configFile = ts.readConfigFile(path.join(ROOT, 'tsconfig.base.json'), (file) => ts.sys.readFile(file));
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, ROOT);
  const files = readdirSync(REPOSITORIES)
    .filter((name) => name.endsWith('.repository.ts'))
    .map((name) => path.join(REPOSITORIES, name));
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const checker = program.getTypeChecker();

  const carriesTenant = (type: ts.Type): boolean => {
    const element = checker.getIndexTypeOfType(type, ts.IndexKind.Number);
    const candidate = element ?? type;
    const property = candidate.getProperty('tenantId');
    if (!property) return false;
    const propertyType = checker.getTypeOfSymbol(property);
    return (propertyType.flags & ts.TypeFlags.String) !== 0;
  };

  const verdicts: MethodVerdict[] = [];
  for (const file of files) {
    const source = program.getSourceFile(file);
    if (!source) throw new Error(`not compiled: ${file}`);
    const visit = (node: ts.Node) => {
      if (ts.isClassDeclaration(node) && node.name) {
        for (const member of node.members) {
          if (!ts.isMethodDeclaration(member) || !member.name) continue;
          const modifiers = ts.getCombinedModifierFlags(member);
          if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
          const [first] = member.parameters;
          const scoped =
            first !== undefined &&
            ((ts.isIdentifier(first.name) && first.name.text === 'tenantId' && (checker.getTypeAtLocation(first).flags & ts.TypeFlags.String) !== 0) ||
              carriesTenant(checker.getTypeAtLocation(first)));
          const tag = ts.getJSDocTags(member).find((candidate) => candidate.tagName.text === 'allTenants');
          const reason = tag === undefined ? undefined : (ts.getTextOfJSDocComment(tag.comment) ?? '').trim();
          verdicts.push({ method: `${node.name.text}.${member.name.getText(source)}`, scoped, allTenants: reason });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
  }
  return verdicts;
}

describe('repository methods are scoped by tenant', () => {
  const verdicts = analyse();

  it('finds the repositories and their methods', () => {
    expect(verdicts.length).toBeGreaterThan(40);
    expect(verdicts.map((verdict) => verdict.method)).toEqual(expect.arrayContaining(['DocumentRepository.findById', 'ConversationRepository.appendExchange']));
  });

  it('every public method takes the tenant, or is marked as system work across all tenants with a reason', () => {
    const unscoped = verdicts.filter((verdict) => !verdict.scoped && !verdict.allTenants).map((verdict) => verdict.method);
    expect(unscoped).toEqual([]);
  });

  it('no method both takes a tenant and claims to work across all tenants', () => {
    expect(verdicts.filter((verdict) => verdict.scoped && verdict.allTenants !== undefined).map((verdict) => verdict.method)).toEqual([]);
  });

  it('the system work across all tenants is exactly the known list', () => {
    // A new entry here is a decision: it must take no id from a client (see each method's comment).
    const known = [
      'ChunkRepository.changesAfter',
      'ChunkRepository.purgeChangesOlderThan',
      'ChunkRepository.feedStart',
      'ChunkRepository.indexedChunkPages',
      'ChunkRepository.indexedCountsByTenant',
      'DocumentRepository.findStuck',
      'EmbeddingCacheRepository.getMany',
      'EmbeddingCacheRepository.purgeUnusedOlderThan',
      'EmbeddingCacheRepository.putMany',
      'EmbeddingVersionRepository.activate',
      'EmbeddingVersionRepository.active',
      'EmbeddingVersionRepository.building',
      'EmbeddingVersionRepository.buildProgress',
      'EmbeddingVersionRepository.chunksWithoutVector',
      'EmbeddingVersionRepository.saveVectors',
      'EmbeddingVersionRepository.target',
      // Each record carries its tenant inside (exchange.tenantId), which every statement filters by.
      'ExchangeBatchRepository.write',
      'QueryLogRepository.activeTenants',
      'QueryLogRepository.purgeOlderThan',
      'QueryTraceRepository.purgeOlderThan',
      // Resource alerts are the installation's, not a tenant's: written by the services' own
      // monitors, read by admin keys, purged by age (migration 1765100000000-system-alerts).
      'TaskRepository.needingQueueJobs',
      'SystemAlertRepository.closeLeftBehind',
      'SystemAlertRepository.closeOpenOf',
      'SystemAlertRepository.list',
      'SystemAlertRepository.purgeClearedOlderThan',
      'SystemAlertRepository.recordTransition',
    ];
    // The authentication lookup itself (a key's hash decides the tenant) and the operator's CLI
    // revocation, which acts for every tenant by design (issue 9).
    const authentication = ['ApiKeyRepository.findByHash', 'ApiKeyRepository.revokeAnyTenant'];
    const marked = verdicts.filter((verdict) => verdict.allTenants).map((verdict) => verdict.method);
    expect(marked.filter((method) => !known.includes(method) && !authentication.includes(method))).toEqual([]);
    expect(known.filter((method) => !marked.includes(method))).toEqual([]);
  });
});
