import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { JobName, type PayloadOf, type ReplyOf } from '@quarry/contracts';
import { SearchService } from '../services/search.service';

@Controller()
export class SearchChunksJob {
  constructor(private readonly search: SearchService) {}

  @MessagePattern(JobName.SearchChunks)
  handle(@Payload() request: PayloadOf<typeof JobName.SearchChunks>): Promise<ReplyOf<typeof JobName.SearchChunks>> {
    return this.search.search(request);
  }
}
