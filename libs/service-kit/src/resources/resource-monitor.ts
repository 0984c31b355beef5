import type { Logger } from '@quarry/observability';
import { Counter, Gauge, type Registry } from 'prom-client';
import { RESOURCE_NAMES, type ResourceName, type ResourceSample } from './resource-sampler';

export type PressureLevel = 'ok' | 'warning' | 'critical';
export type ResourceThresholds = Record<ResourceName, { warning: number; critical: number }>;

/** An alert's start or end, as the monitor reports it. */
export interface ResourceAlert {
  resource: ResourceName;
  level: PressureLevel;
  previous: PressureLevel;
  value: number;
  threshold: number | null;
}

const LEVELS: readonly PressureLevel[] = ['ok', 'warning', 'critical'];

/**
 * Judges each sample against the thresholds: a resource's level changing raises (or clears) an
 * alert — logged, counted (`quarry_resource_alerts_total{resource,level}`) and shown
 * (`quarry_resource_alert_level{resource}`: 0 ok, 1 warning, 2 critical) — and the worst level is
 * the process's pressure, which adaptive concurrency follows.
 */
export class ResourceMonitor {
  private readonly levels = new Map<ResourceName, PressureLevel>(RESOURCE_NAMES.map((resource) => [resource, 'ok']));
  private readonly usage: Gauge<'resource'>;
  private readonly alertLevel: Gauge<'resource'>;
  private readonly alerts: Counter<'resource' | 'level'>;
  private readonly listeners: Array<(alert: ResourceAlert) => void> = [];

  constructor(
    private readonly thresholds: ResourceThresholds,
    registry: Registry,
    private readonly logger: Logger,
  ) {
    const registers = [registry];
    this.usage = new Gauge({ name: 'quarry_resource_usage', help: 'The last sample of each resource: cpu, memory and disk as ratios, eventLoopLag in seconds.', labelNames: ['resource'] as const, registers });
    this.alertLevel = new Gauge({ name: 'quarry_resource_alert_level', help: "Each resource's alert level: 0 ok, 1 warning, 2 critical.", labelNames: ['resource'] as const, registers });
    this.alerts = new Counter({ name: 'quarry_resource_alerts_total', help: 'Resource alerts raised, by resource and level (warning, critical).', labelNames: ['resource', 'level'] as const, registers });
    for (const resource of RESOURCE_NAMES) {
      this.usage.set({ resource }, 0);
      this.alertLevel.set({ resource }, 0);
      for (const level of ['warning', 'critical']) this.alerts.inc({ resource, level }, 0);
    }
  }

  onAlert(listener: (alert: ResourceAlert) => void): void {
    this.listeners.push(listener);
  }

  /** The worst level over every resource. */
  get pressure(): PressureLevel {
    return [...this.levels.values()].reduce((worst, level) => (LEVELS.indexOf(level) > LEVELS.indexOf(worst) ? level : worst), 'ok');
  }

  observe(sample: ResourceSample): PressureLevel {
    for (const resource of RESOURCE_NAMES) {
      const value = sample[resource];
      const { warning, critical } = this.thresholds[resource];
      const level: PressureLevel = value >= critical ? 'critical' : value >= warning ? 'warning' : 'ok';
      this.usage.set({ resource }, value);
      const previous = this.levels.get(resource) ?? 'ok';
      if (level === previous) continue;
      this.levels.set(resource, level);
      this.alertLevel.set({ resource }, LEVELS.indexOf(level));
      const alert: ResourceAlert = { resource, level, previous, value, threshold: level === 'ok' ? null : level === 'critical' ? critical : warning };
      if (level === 'ok') this.logger.info('resource alert cleared', { ...alert });
      else {
        this.alerts.inc({ resource, level });
        this.logger.warn('resource alert', { ...alert });
      }
      for (const listener of this.listeners) listener(alert);
    }
    return this.pressure;
  }
}
