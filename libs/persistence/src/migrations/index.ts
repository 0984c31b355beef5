import { InitialSchema1763700000000 } from './1763700000000-initial-schema';
import { StagedIngestion1763800000000 } from './1763800000000-staged-ingestion';
import { EmbeddingVersions1763900000000 } from './1763900000000-embedding-versions';
import { GaplessIndexFeed1764000000000 } from './1764000000000-gapless-index-feed';
import { AttemptOutcomes1764100000000 } from './1764100000000-attempt-outcomes';
import { ApiKeys1764200000000 } from './1764200000000-api-keys';
import { TenantOwnedRows1764300000000 } from './1764300000000-tenant-owned-rows';
import { TenantQuotas1764400000000 } from './1764400000000-tenant-quotas';
import { CacheEntries1764500000000 } from './1764500000000-cache-entries';
import { CorpusVersion1764600000000 } from './1764600000000-corpus-version';
import { QueryLogByTenant1764700000000 } from './1764700000000-query-log-by-tenant';
import { QueryTraces1764800000000 } from './1764800000000-query-traces';
import { ConversationsByTenant1764900000000 } from './1764900000000-conversations-by-tenant';
import { Tasks1765000000000 } from './1765000000000-tasks';
import { SystemAlerts1765100000000 } from './1765100000000-system-alerts';
import { TaskWebhooksAndTurns1765200000000 } from './1765200000000-task-webhooks-and-turns';

/** Every migration, in order. New migrations are appended here. */
export const ALL_MIGRATIONS = [InitialSchema1763700000000, StagedIngestion1763800000000, EmbeddingVersions1763900000000, GaplessIndexFeed1764000000000, AttemptOutcomes1764100000000, ApiKeys1764200000000, TenantOwnedRows1764300000000, TenantQuotas1764400000000, CacheEntries1764500000000, CorpusVersion1764600000000, QueryLogByTenant1764700000000, QueryTraces1764800000000, ConversationsByTenant1764900000000, Tasks1765000000000, SystemAlerts1765100000000, TaskWebhooksAndTurns1765200000000];
