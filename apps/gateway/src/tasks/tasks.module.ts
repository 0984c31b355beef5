import { Module } from '@nestjs/common';
import { TasksController } from './tasks.controller';
import { TasksService } from './tasks.service';

/** /api/tasks: submit, list, read, follow and cancel background tasks (the task-scheduler runs them). */
@Module({
  controllers: [TasksController],
  providers: [TasksService],
})
export class TasksModule {}
