import type { Logger } from '@quarry/observability';
import type { Registry } from 'prom-client';
import { AdaptiveConcurrency, type ConcurrencyTarget } from './adaptive-concurrency';
import { ResourceMonitor } from './resource-monitor';
import { ResourceSampler } from './resource-sampler';

/** The settings of a worker's resource watch (libs/config workerEnv). */
export interface ResourceControlConfig {
  RESOURCE_SAMPLE_MS: number;
  WORKER_CONCURRENCY: number;
  WORKER_CONCURRENCY_MIN: number;
  RESOURCE_CPU_WARNING: number;
  RESOURCE_CPU_CRITICAL: number;
  RESOURCE_MEMORY_WARNING: number;
  RESOURCE_MEMORY_CRITICAL: number;
  RESOURCE_LAG_WARNING_MS: number;
  RESOURCE_LAG_CRITICAL_MS: number;
  RESOURCE_DISK_WARNING: number;
  RESOURCE_DISK_CRITICAL: number;
}

/** A worker process's resource watch: samples every RESOURCE_SAMPLE_MS, raises alerts, and sets its queue workers' concurrency from the pressure. */
export class ResourceControl {
  readonly monitor: ResourceMonitor;
  readonly concurrency: AdaptiveConcurrency;
  private readonly sampler = new ResourceSampler();
  private readonly timer: NodeJS.Timeout;

  constructor(config: ResourceControlConfig, target: ConcurrencyTarget, registry: Registry, logger: Logger) {
    this.monitor = new ResourceMonitor(
      {
        cpu: { warning: config.RESOURCE_CPU_WARNING, critical: config.RESOURCE_CPU_CRITICAL },
        memory: { warning: config.RESOURCE_MEMORY_WARNING, critical: config.RESOURCE_MEMORY_CRITICAL },
        eventLoopLag: { warning: config.RESOURCE_LAG_WARNING_MS / 1000, critical: config.RESOURCE_LAG_CRITICAL_MS / 1000 },
        disk: { warning: config.RESOURCE_DISK_WARNING, critical: config.RESOURCE_DISK_CRITICAL },
      },
      registry,
      logger,
    );
    this.concurrency = new AdaptiveConcurrency(target, { min: Math.min(config.WORKER_CONCURRENCY_MIN, config.WORKER_CONCURRENCY), max: config.WORKER_CONCURRENCY }, registry, logger);
    this.timer = setInterval(() => this.concurrency.follow(this.monitor.observe(this.sampler.sample())), config.RESOURCE_SAMPLE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.sampler.stop();
  }
}
