import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { JobName } from '@quarry/contracts';
import { JOB_CLIENT } from '@quarry/service-kit';
import type { JobClient } from '@quarry/transport';
import { RequiresRole } from '../auth/requires-role.decorator';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';
import { QueryBody, type QueryReply } from './query.schemas';

/** Questions go to the agent service over its queue; the answer comes back with its citations. */
@Controller('api/query')
export class QueryController {
  constructor(@Inject(JOB_CLIENT) private readonly jobs: JobClient) {}

  @Post()
  @HttpCode(200)
  @RequiresRole('read')
  ask(@Tenant() tenantId: string, @Body() body: unknown): Promise<QueryReply> {
    return this.jobs.request(JobName.AnswerQuestion, { tenantId, ...parseBody(QueryBody, body) });
  }
}
