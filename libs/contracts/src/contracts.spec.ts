import { ErrorCode, PERMANENT_ERROR_CODES, formatFailureReason, parseFailureReason } from './error-codes';
import { ingestJobId, parseIngestJobId, stageJobId } from './ingestion.contract';
import { type AnyJobContract, JobName, contractFor, jobContracts, jobNamesOnQueue } from './jobs';
import { QueueName } from './queues';

describe('job contracts', () => {
  it('puts every job on exactly one queue and every queue has a job', () => {
    const all = Object.values(QueueName).flatMap((queue) => jobNamesOnQueue(queue));
    expect(all.sort()).toEqual(Object.values(JobName).sort());
    for (const queue of Object.values(QueueName)) expect(jobNamesOnQueue(queue).length).toBeGreaterThan(0);
  });

  it('names each job after the queue that consumes it', () => {
    for (const name of Object.values(JobName)) expect(name.startsWith(`${jobContracts[name].queue}.`)).toBe(true);
  });

  it('never retries request jobs (the caller is waiting) and retries events with growing pauses', () => {
    for (const contract of Object.values(jobContracts) as AnyJobContract[]) {
      if (contract.kind === 'request') expect(contract.options.attempts).toBe(1);
      else if (contract.options.attempts > 1) expect(contract.options.backoff?.type).toBe('exponential');
    }
  });

  it('finds contracts only for known names, including inherited object keys', () => {
    expect(contractFor(JobName.SearchChunks)?.queue).toBe(QueueName.Retrieval);
    expect(contractFor('toString')).toBeUndefined();
    expect(contractFor('retrieval.unknown')).toBeUndefined();
  });

  it('validates payloads with readable paths and applies defaults', () => {
    const search = jobContracts[JobName.SearchChunks].payload.safeParse({ tenantId: 'acme', query: 'x' });
    expect(search.success && search.data.topK).toBe(8);
    const bad = jobContracts[JobName.IngestDocument].payload.safeParse({ tenantId: 'acme', documentId: 'nope', sha256: 'zz' });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['documentId', 'sha256']);
  });

  it('makes deterministic ingest job ids without ":" (BullMQ forbids it in custom ids)', () => {
    const id = ingestJobId('2f1c7a4e-0000-4000-8000-000000000000', 'a'.repeat(64));
    expect(id).toBe(`ingest-2f1c7a4e-0000-4000-8000-000000000000-${'a'.repeat(64)}`);
    expect(id).not.toContain(':');
    expect(parseIngestJobId(id)).toEqual({ documentId: '2f1c7a4e-0000-4000-8000-000000000000', sha256: 'a'.repeat(64) });
    expect(parseIngestJobId('embed-x')).toBeUndefined();
    expect(stageJobId('embed', 'd', 'f')).toBe('embed-d-f');
  });
});

describe('failure reasons', () => {
  it('round-trip a code and message through the text BullMQ stores', () => {
    const reason = formatFailureReason(ErrorCode.NotFound, 'document x: gone');
    expect(parseFailureReason(reason)).toEqual({ code: ErrorCode.NotFound, message: 'document x: gone' });
  });

  it('treat foreign or unknown reasons as INTERNAL, keeping the text', () => {
    expect(parseFailureReason('Something broke')).toEqual({ code: ErrorCode.Internal, message: 'Something broke' });
    expect(parseFailureReason('WEIRD_CODE: x')).toEqual({ code: ErrorCode.Internal, message: 'WEIRD_CODE: x' });
  });

  it('classify bad input as permanent and outages as retryable', () => {
    expect(PERMANENT_ERROR_CODES.has(ErrorCode.InvalidPayload)).toBe(true);
    expect(PERMANENT_ERROR_CODES.has(ErrorCode.ServiceUnavailable)).toBe(false);
    expect(PERMANENT_ERROR_CODES.has(ErrorCode.Timeout)).toBe(false);
  });
});
