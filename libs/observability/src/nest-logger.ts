import type { LoggerService } from '@nestjs/common';
import type { Logger } from './logger';

/** Routes NestJS's own log lines (bootstrap, routes, errors) into the same JSON logger. */
export class NestWinstonLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, context?: string): void {
    this.logger.info(String(message), { context });
  }
  error(message: unknown, stack?: string, context?: string): void {
    this.logger.error(String(message), { stack, context });
  }
  warn(message: unknown, context?: string): void {
    this.logger.warn(String(message), { context });
  }
  debug(message: unknown, context?: string): void {
    this.logger.debug(String(message), { context });
  }
  verbose(message: unknown, context?: string): void {
    this.logger.debug(String(message), { context });
  }
}
