import { ChunkEntity } from './chunk.entity';
import { ConversationEntity } from './conversation.entity';
import { DocumentContentEntity } from './document-content.entity';
import { DocumentEntity } from './document.entity';
import { IndexChangeEntity } from './index-change.entity';
import { MessageEntity } from './message.entity';
import { ProcessingJobEntity } from './processing-job.entity';
import { QueryLogEntity } from './query-log.entity';
import { TenantEntity } from './tenant.entity';

export {
  ChunkEntity,
  ConversationEntity,
  DocumentContentEntity,
  DocumentEntity,
  IndexChangeEntity,
  MessageEntity,
  ProcessingJobEntity,
  QueryLogEntity,
  TenantEntity,
};

export const ALL_ENTITIES = [
  TenantEntity,
  DocumentEntity,
  DocumentContentEntity,
  ChunkEntity,
  IndexChangeEntity,
  ProcessingJobEntity,
  ConversationEntity,
  MessageEntity,
  QueryLogEntity,
];
