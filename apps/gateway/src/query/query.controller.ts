import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { JobName, SearchFilters, safeText } from '@quarry/contracts';
import { JOB_CLIENT } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import { z } from 'zod';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';

const QueryBody = z
  .object({
    question: safeText(z.string().trim().min(1, 'question must not be empty').max(4000)),
    filters: SearchFilters.optional(),
    topK: z.number().int().min(1).max(50).optional(),
    conversationId: z.uuid().optional(),
  })
  .strict();

/** Questions go to the agent service over its queue; the answer comes back with its citations. */
@Controller('api/query')
export class QueryController {
  constructor(@Inject(JOB_CLIENT) private readonly jobs: JobClient) {}

  @Post()
  @HttpCode(200)
  ask(@Tenant() tenantId: string, @Body() body: unknown) {
    return this.jobs.request(JobName.AnswerQuestion, { tenantId, ...parseBody(QueryBody, body) });
  }
}
