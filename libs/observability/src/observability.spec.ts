import { Writable } from 'node:stream';
import winston from 'winston';
import { currentCorrelationId, runWithCorrelationId } from './correlation';
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
});
