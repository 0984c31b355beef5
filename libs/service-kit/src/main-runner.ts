import { ConfigError } from '@quarry/config';
import { DependencyUnreachableError } from './dependency-check';
import type { RunningService } from './run-service';
import type { BaseServiceConfig } from './service-kit';

/**
 * What every `main.ts` does: start the service, stop it gracefully on SIGTERM/SIGINT (forcing exit
 * if that takes longer than the shutdown timeout), and turn boot failures into one readable line.
 */
export function runMain<C extends BaseServiceConfig>(name: string, start: () => Promise<RunningService<C>>): void {
  // Through a promise, so a config error thrown synchronously is reported like any other boot failure.
  Promise.resolve().then(start).then(
    (service) => {
      const stop = (signal: string) => {
        const timeout = service.kit.config.SHUTDOWN_TIMEOUT_MS + 5000;
        setTimeout(() => {
          console.error(`${name}: shutdown took longer than ${timeout} ms after ${signal}; exiting`);
          process.exit(1);
        }, timeout).unref();
        service.close().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(`${name}: error during shutdown: ${(error as Error).message}`);
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    },
    (error: unknown) => {
      if (error instanceof DependencyUnreachableError || error instanceof ConfigError) {
        console.error(`FATAL ${name}: ${error.message}`);
      } else {
        console.error(`FATAL ${name}: failed to start: ${(error as Error).stack ?? String(error)}`);
      }
      process.exit(1);
    },
  );
}
