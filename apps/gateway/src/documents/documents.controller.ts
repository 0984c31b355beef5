import { Controller, Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { DocumentStatus } from '@quarry/contracts';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';
import { DocumentsService } from './documents.service';
import { readUploadForm } from './upload-form';

const ListQuery = z.object({
  status: DocumentStatus.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});
const DocumentId = z.uuid({ message: 'document id must be a UUID' });

@Controller('api/documents')
export class DocumentsController {
  constructor(private readonly documents: DocumentsService) {}

  /** Stores the file and queues it for ingestion; poll GET /api/documents/:id for its status. */
  @Post()
  @HttpCode(202)
  async upload(@Tenant() tenantId: string, @Req() request: FastifyRequest) {
    return this.documents.upload(tenantId, await readUploadForm(request));
  }

  @Get()
  list(@Tenant() tenantId: string, @Query() query: unknown) {
    return this.documents.list(tenantId, parseBody(ListQuery, query));
  }

  @Get(':id')
  get(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.documents.get(tenantId, parseBody(DocumentId, id));
  }

  @Delete(':id')
  @HttpCode(204)
  async delete(@Tenant() tenantId: string, @Param('id') id: string): Promise<void> {
    await this.documents.delete(tenantId, parseBody(DocumentId, id));
  }
}
