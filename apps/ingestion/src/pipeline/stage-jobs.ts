import { Controller } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { type IngestDocumentPayload, JobName } from '@quarry/contracts';
import type { BullMqContext } from '@quarry/transport';
import { ChunkStage } from '../stages/chunk.stage';
import { EmbedStage } from '../stages/embed.stage';
import { IndexStage } from '../stages/index.stage';
import { ParseStage } from '../stages/parse.stage';
import type { PipelineStage } from './stage';
import { type StageJob, StageRunner } from './stage-runner.service';

function stageJob(payload: IngestDocumentPayload, context: BullMqContext): StageJob {
  const job = context.getJob();
  return {
    payload,
    queueJobId: job.id ?? 'unknown',
    attempt: job.attemptsMade + 1,
    isFinalAttempt: context.isFinalAttempt(),
    priority: job.opts.priority,
  };
}

/** One handler per pipeline step; `ingestion.ingest-document` is the first (parse). */
@Controller()
export class StageJobs {
  constructor(
    private readonly runner: StageRunner,
    private readonly parse: ParseStage,
    private readonly chunk: ChunkStage,
    private readonly embed: EmbedStage,
    private readonly index: IndexStage,
  ) {}

  private run(stage: PipelineStage, payload: IngestDocumentPayload, context: BullMqContext): Promise<void> {
    return this.runner.run(stage, stageJob(payload, context));
  }

  @EventPattern(JobName.IngestDocument)
  parseDocument(@Payload() payload: IngestDocumentPayload, @Ctx() context: BullMqContext): Promise<void> {
    return this.runner.runFirstStep({ parse: this.parse, chunk: this.chunk, embed: this.embed, index: this.index }, stageJob(payload, context));
  }

  @EventPattern(JobName.ChunkDocument)
  chunkDocument(@Payload() payload: IngestDocumentPayload, @Ctx() context: BullMqContext): Promise<void> {
    return this.run(this.chunk, payload, context);
  }

  @EventPattern(JobName.EmbedDocument)
  embedDocument(@Payload() payload: IngestDocumentPayload, @Ctx() context: BullMqContext): Promise<void> {
    return this.run(this.embed, payload, context);
  }

  @EventPattern(JobName.IndexDocument)
  indexDocument(@Payload() payload: IngestDocumentPayload, @Ctx() context: BullMqContext): Promise<void> {
    return this.run(this.index, payload, context);
  }
}
