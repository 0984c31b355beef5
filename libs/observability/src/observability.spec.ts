import { Writable } from 'node:stream';
import winston from 'winston';
import { currentCorrelationId, runWithContext, runWithCorrelationId, setCurrentTenant } from './correlation';
import { createLogger, redactSecrets } from './logger';
import { ServiceMetrics } from './metrics';

function captureLines(logger: winston.Logger): string[] {
  const lines: string[] = [];
  logger.clear();
  logger.add(
    new winston.transports.Stream({
      stream: new Writable({
        write(chunk: Buffer, _encoding, done) {
          lines.push(chunk.toString().trim());
          done();
        },
      }),
    }),
  );
  return lines;
}

describe('logger', () => {
  it('writes JSON with service and the correlation id of the current context', () => {
    const logger = createLogger({ service: 'ingestion', level: 'info' });
    const lines = captureLines(logger);
    runWithCorrelationId('corr-42', () => logger.info('job started', { job: 'x' }));
    logger.info('outside');
    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({ level: 'info', message: 'job started', service: 'ingestion', correlationId: 'corr-42', job: 'x' });
    expect(outside.correlationId).toBeUndefined();
  });

  it('redacts secret-looking fields at any depth', () => {
    const logger = createLogger({ service: 'agent', level: 'info' });
    const lines = captureLines(logger);
    logger.info('calling model', { apiKey: 'sk-123', request: { headers: { authorization: 'Bearer x' }, model: 'm' } });
    expect(lines[0]).not.toContain('sk-123');
    expect(lines[0]).not.toContain('Bearer x');
    expect(lines[0]).toContain('"model":"m"');
    expect(redactSecrets({ nested: [{ password: 'p' }] })).toEqual({ nested: [{ password: '[redacted]' }] });
  });

  it('names the tenant on every line once the context knows it', () => {
    const logger = createLogger({ service: 'gateway', level: 'info' });
    const lines = captureLines(logger);
    runWithContext({ correlationId: 'c-7' }, () => {
      logger.info('before authentication');
      setCurrentTenant('acme');
      logger.info('after authentication');
    });
    runWithContext({ correlationId: 'c-8', tenantId: 'job-tenant' }, () => logger.info('a job'));
    const [before, after, job] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(before).toMatchObject({ correlationId: 'c-7' });
    expect(before.tenantId).toBeUndefined();
    expect(after).toMatchObject({ correlationId: 'c-7', tenantId: 'acme' });
    expect(job).toMatchObject({ correlationId: 'c-8', tenantId: 'job-tenant' });
  });

  it('keeps the correlation id across awaits', async () => {
    await runWithCorrelationId('c-1', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      expect(currentCorrelationId()).toBe('c-1');
    });
  });
});

describe('ServiceMetrics', () => {
  it('exposes Prometheus text with the service label and our metric names', async () => {
    const metrics = new ServiceMetrics('retrieval');
    metrics.jobsTotal.inc({ queue: 'retrieval', job_name: 'retrieval.search', outcome: 'completed' });
    const { body, contentType } = await metrics.render();
    expect(contentType).toContain('text/plain');
    expect(body).toContain('quarry_jobs_total{queue="retrieval",job_name="retrieval.search",outcome="completed",service="retrieval"} 1');
    expect(body).toContain('process_resident_memory_bytes');
  });

  it('samples before each render, and a sampler that never answers does not hold the scrape', async () => {
    const metrics = new ServiceMetrics('gateway');
    metrics.beforeRender(() => {
      metrics.serviceReady.set(1);
      return Promise.resolve();
    });
    metrics.beforeRender(() => new Promise<void>(() => undefined));
    const started = Date.now();
    const { body } = await metrics.render();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(body).toContain('quarry_service_ready{service="gateway"} 1');
  });

  it('starts labelled counters it knows the labels of at zero', async () => {
    const { body } = await new ServiceMetrics('ingestion').render();
    expect(body).toContain('quarry_documents_total{outcome="indexed",service="ingestion"} 0');
    expect(body).toContain('quarry_documents_total{outcome="failed",service="ingestion"} 0');
    expect(body).toContain('quarry_ingestion_chunks_total{service="ingestion"} 0');
  });
});
