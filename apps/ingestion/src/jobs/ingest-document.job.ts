import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf } from '@quarry/contracts';
import type { BullMqContext } from '@quarry/transport';
import { IngestionPipeline } from '../services/ingestion-pipeline.service';

@Controller()
export class IngestDocumentJob {
  constructor(private readonly pipeline: IngestionPipeline) {}

  @EventPattern(JobName.IngestDocument)
  async handle(@Payload() payload: PayloadOf<typeof JobName.IngestDocument>, @Ctx() context: BullMqContext): Promise<void> {
    const job = context.getJob();
    await this.pipeline.ingest(payload, {
      queueJobId: job.id ?? 'unknown',
      attempt: job.attemptsMade + 1,
      isFinalAttempt: context.isFinalAttempt(),
    });
  }
}
