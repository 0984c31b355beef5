import { Controller, Delete, Get, HttpCode, Param, Query } from '@nestjs/common';
import { RequiresRole } from '../auth/requires-role.decorator';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';
import { ConversationId, ListConversationsQuery } from './conversations.schemas';
import { ConversationsService } from './conversations.service';

/** The caller's conversations (questions asked with POST /api/query and their answers). */
@Controller('api/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @RequiresRole('read')
  list(@Tenant() tenantId: string, @Query() query: unknown) {
    return this.conversations.list(tenantId, parseBody(ListConversationsQuery, query));
  }

  @Get(':id')
  @RequiresRole('read')
  get(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.conversations.get(tenantId, parseBody(ConversationId, id));
  }

  @Delete(':id')
  @RequiresRole('write')
  @HttpCode(204)
  async delete(@Tenant() tenantId: string, @Param('id') id: string): Promise<void> {
    await this.conversations.delete(tenantId, parseBody(ConversationId, id));
  }
}
