import { type DataSource, createDataSource, runMigrationsExclusively } from '@quarry/persistence';
import { type TestRedisPrefix, type TestSchema, createTestRedisPrefix, createTestSchema } from '@quarry/testing';
import { Registry } from 'prom-client';
import { TieredCache, type TieredCacheOptions } from '../src';

export interface LoggedLine {
  level: 'warn' | 'info' | 'error';
  msg: string;
  meta?: object;
}

export class RecordingLogger {
  readonly lines: LoggedLine[] = [];
  warn(msg: string, meta?: object): void {
    this.lines.push({ level: 'warn', msg, meta });
  }
  info(msg: string, meta?: object): void {
    this.lines.push({ level: 'info', msg, meta });
  }
  error(msg: string, meta?: object): void {
    this.lines.push({ level: 'error', msg, meta });
  }
}

export async function openDataSource(url: string, schema: string): Promise<DataSource> {
  const dataSource = await createDataSource({ url, schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'cache-test' }).initialize();
  await runMigrationsExclusively(dataSource);
  return dataSource;
}

/** A schema (migrated) and a Redis prefix of the spec's own; caches built on them are closed by `close`. */
export class CacheFixture {
  private readonly caches: TieredCache[] = [];
  private readonly sources: DataSource[] = [];

  private constructor(
    readonly schema: TestSchema,
    readonly redis: TestRedisPrefix,
    readonly dataSource: DataSource,
  ) {}

  static async start(label: string): Promise<CacheFixture> {
    const schema = await createTestSchema(label);
    const dataSource = await openDataSource(schema.url, schema.schema);
    return new CacheFixture(schema, createTestRedisPrefix(label), dataSource);
  }

  /** A second pool on the same schema, as another replica would have. */
  async replicaDataSource(): Promise<DataSource> {
    const source = await createDataSource({ url: this.schema.url, schema: this.schema.schema, poolMax: 4, statementTimeoutMs: 10_000, applicationName: 'cache-test' }).initialize();
    this.sources.push(source);
    return source;
  }

  /** A TieredCache on the fixture's Redis prefix and schema (generous deadlines: the machine is shared). */
  async cache(overrides: Partial<TieredCacheOptions> = {}): Promise<{ cache: TieredCache; registry: Registry; logger: RecordingLogger }> {
    const registry = overrides.registry ?? new Registry();
    const logger = new RecordingLogger();
    const cache = new TieredCache({
      service: 'cache-test',
      redis: { url: this.redis.url, prefix: this.redis.prefix },
      dataSource: this.dataSource,
      memoryMaxBytes: 1 << 20,
      registry,
      logger,
      tierTimeoutMs: { redis: 2000, postgres: 2000 },
      ...overrides,
    });
    this.caches.push(cache);
    await cache.ready();
    return { cache, registry, logger };
  }

  async close(): Promise<void> {
    for (const cache of this.caches) await cache.close();
    for (const source of this.sources) await source.destroy();
    await this.dataSource.destroy();
    await this.schema.drop();
    await this.redis.cleanup();
  }
}

/** The value of one series in the registry's text exposition (undefined if absent). */
export async function metricValue(registry: Registry, name: string, labels: Record<string, string>): Promise<number | undefined> {
  const base = name.replace(/_(count|sum|bucket)$/, '');
  const metric = registry.getSingleMetric(name) ?? registry.getSingleMetric(base);
  if (!metric) return undefined;
  const { values } = await metric.get();
  const found = values.find(
    (value) =>
      ((value as { metricName?: string }).metricName ?? name) === name && Object.entries(labels).every(([label, expected]) => String((value.labels as Record<string, unknown>)[label]) === expected),
  );
  return found?.value;
}
