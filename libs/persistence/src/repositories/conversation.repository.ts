import type { DataSource } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { ConversationEntity } from '../entities/conversation.entity';
import { MessageEntity } from '../entities/message.entity';
import { ensureTenant } from './document.repository';

/** Conversations and their messages (question, answer with citations). */
export class ConversationRepository {
  constructor(private readonly dataSource: DataSource) {}

  /** Appends one question/answer exchange, creating the conversation when no id is given or known. */
  async appendExchange(input: {
    tenantId: string;
    conversationId?: string;
    question: string;
    answer: string;
    citations: unknown[];
  }): Promise<string> {
    return this.dataSource.transaction(async (manager) => {
      await ensureTenant(manager, input.tenantId);
      let conversationId = input.conversationId;
      const existing = conversationId ? await manager.findOneBy(ConversationEntity, { id: conversationId, tenantId: input.tenantId }) : null;
      if (!existing) {
        const created = await manager.save(ConversationEntity, {
          ...(conversationId ? { id: conversationId } : {}),
          tenantId: input.tenantId,
          title: input.question.slice(0, 120),
        });
        conversationId = created.id;
      } else {
        await manager.update(ConversationEntity, { id: existing.id }, { updatedAt: new Date() });
      }
      await manager.insert(MessageEntity, [
        { conversationId, role: 'user', content: input.question, citations: [] },
        { conversationId, role: 'assistant', content: input.answer, citations: input.citations as QueryDeepPartialEntity<unknown>[] },
      ]);
      return conversationId as string;
    });
  }

  messages(conversationId: string): Promise<MessageEntity[]> {
    return this.dataSource.getRepository(MessageEntity).find({ where: { conversationId }, order: { createdAt: 'ASC' } });
  }
}
