import { ApiKeyEntity } from './api-key.entity';
import { ChunkEntity } from './chunk.entity';
import { ConversationEntity } from './conversation.entity';
import { DocumentArtifactEntity } from './document-artifact.entity';
import { DocumentContentEntity } from './document-content.entity';
import { DocumentEntity } from './document.entity';
import { EmbeddingCacheEntity } from './embedding-cache.entity';
import { IndexChangeEntity } from './index-change.entity';
import { MessageEntity } from './message.entity';
import { ProcessingJobEntity } from './processing-job.entity';
import { QueryLogEntity } from './query-log.entity';
import { QueryTraceEntity } from './query-trace.entity';
import { TenantEntity } from './tenant.entity';

export {
  ApiKeyEntity,
  ChunkEntity,
  DocumentArtifactEntity,
  EmbeddingCacheEntity,
  ConversationEntity,
  DocumentContentEntity,
  DocumentEntity,
  IndexChangeEntity,
  MessageEntity,
  ProcessingJobEntity,
  QueryLogEntity,
  QueryTraceEntity,
  TenantEntity,
};

export const ALL_ENTITIES = [
  TenantEntity,
  DocumentEntity,
  DocumentContentEntity,
  DocumentArtifactEntity,
  ChunkEntity,
  EmbeddingCacheEntity,
  IndexChangeEntity,
  ProcessingJobEntity,
  ConversationEntity,
  MessageEntity,
  QueryLogEntity,
  QueryTraceEntity,
  ApiKeyEntity,
];
