import { Inject, Injectable } from '@nestjs/common';
import { type Citation, ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { ConversationRepository, type ConversationSummary, type DataSource } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import type { ConversationDetail, ConversationPage, ConversationView } from './conversations.schemas';

/** The one answer for a conversation that is missing or another tenant's: the two look the same. */
function notFound(id: string): DomainError {
  return new DomainError(ErrorCode.NotFound, `conversation ${id} not found`);
}

function toView(conversation: ConversationSummary): ConversationView {
  return {
    id: conversation.id,
    title: conversation.title,
    createdAt: conversation.createdAt.toISOString(),
    updatedAt: conversation.updatedAt.toISOString(),
    messageCount: conversation.messageCount,
  };
}

/** Conversation use cases of the public API: list, read with messages, delete — all within the caller's tenant. */
@Injectable()
export class ConversationsService {
  private readonly conversations: ConversationRepository;

  constructor(@Inject(DATA_SOURCE) dataSource: DataSource) {
    this.conversations = new ConversationRepository(dataSource);
  }

  async list(tenantId: string, query: { limit: number; offset: number }): Promise<ConversationPage> {
    const page = await this.conversations.list(tenantId, query);
    return { items: page.items.map(toView), total: page.total, limit: query.limit, offset: query.offset };
  }

  async get(tenantId: string, id: string): Promise<ConversationDetail> {
    const conversation = await this.conversations.find(tenantId, id);
    if (!conversation) throw notFound(id);
    const messages = await this.conversations.messages(tenantId, id);
    return {
      ...toView(conversation),
      messages: messages.map((message) => ({
        role: message.role,
        content: message.content,
        // Written by the agent from its reply's citations (the Citation contract).
        citations: message.citations as Citation[],
        createdAt: message.createdAt.toISOString(),
      })),
    };
  }

  async delete(tenantId: string, id: string): Promise<void> {
    if (!(await this.conversations.delete(tenantId, id))) throw notFound(id);
  }
}
