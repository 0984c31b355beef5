import { Module } from '@nestjs/common';
import { DocumentsController } from './documents/documents.controller';
import { DocumentsService } from './documents/documents.service';
import { QueryController } from './query/query.controller';

@Module({
  controllers: [DocumentsController, QueryController],
  providers: [DocumentsService],
})
export class GatewayModule {}
