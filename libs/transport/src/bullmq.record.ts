/**
 * Data plus per-job options for `client.emit(...)`, like Nest's RmqRecord: the deterministic job id
 * makes a re-sent event a no-op while the first job is still known to BullMQ.
 */
export class BullMqRecord<T = unknown> {
  constructor(
    readonly data: T,
    readonly options: { jobId?: string; delayMs?: number } = {},
  ) {}
}
