import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Query, Req, Res } from '@nestjs/common';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RequiresRole } from '../auth/requires-role.decorator';
import type { GatewayConfig } from '../config';
import { parseBody } from '../http/parse-body';
import { publicErrorOf } from '../http/public-error';
import { Tenant } from '../http/tenant.decorator';
import { type BatchUploadResult, DocumentId, ListDocumentsQuery } from './documents.schemas';
import { DocumentsService } from './documents.service';
import { readUploadForm, uploadLimits } from './upload-form';

@Controller('api/documents')
export class DocumentsController {
  private readonly limits: ReturnType<typeof uploadLimits>;

  constructor(
    private readonly documents: DocumentsService,
    @Inject(SERVICE_CONFIG) config: GatewayConfig,
  ) {
    this.limits = uploadLimits(config);
  }

  /**
   * Stores the file and queues it for ingestion (202); the same content again returns the existing
   * document (200, `duplicate: true`). Follow it at GET /api/jobs/:jobId or its /events stream.
   */
  @Post()
  @RequiresRole('write')
  async upload(@Tenant() tenantId: string, @Req() request: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const form = await readUploadForm(request, this.limits.single);
    const result = await this.documents.upload(tenantId, form.files[0], form);
    void reply.status(result.duplicate ? 200 : 202);
    return result;
  }

  /** Many files in one request (same tags and folder); each succeeds or fails on its own. */
  @Post('batch')
  @RequiresRole('write')
  @HttpCode(202)
  async uploadBatch(@Tenant() tenantId: string, @Req() request: FastifyRequest): Promise<BatchUploadResult> {
    const form = await readUploadForm(request, this.limits.batch);
    const results = await this.documents.uploadMany(tenantId, form.files, form);
    return {
      documents: results.map((result, index) => {
        const filename = form.files[index].filename;
        if ('error' in result) {
          // The same words the error would get as a response of its own (never internal text).
          const { code, message } = publicErrorOf(result.error);
          return { filename, error: { code, message } };
        }
        return { filename, documentId: result.documentId, jobId: result.jobId, status: result.status, duplicate: result.duplicate };
      }),
    };
  }

  @Get()
  @RequiresRole('read')
  list(@Tenant() tenantId: string, @Query() query: unknown) {
    return this.documents.list(tenantId, parseBody(ListDocumentsQuery, query));
  }

  @Get(':id')
  @RequiresRole('read')
  get(@Tenant() tenantId: string, @Param('id') id: string) {
    return this.documents.get(tenantId, parseBody(DocumentId, id));
  }

  @Delete(':id')
  @RequiresRole('write')
  @HttpCode(204)
  async delete(@Tenant() tenantId: string, @Param('id') id: string): Promise<void> {
    await this.documents.delete(tenantId, parseBody(DocumentId, id));
  }
}
