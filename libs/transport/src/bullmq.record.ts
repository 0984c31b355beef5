/**
 * Data plus per-job options for `client.emit(...)`, like Nest's RmqRecord: the deterministic job id
 * makes a re-sent event a no-op while the first job is still known to BullMQ.
 */
export interface EmitOptions {
  jobId?: string;
  delayMs?: number;
  /** BullMQ priority: 1 is served first; larger numbers wait behind smaller ones. */
  priority?: number;
}

export class BullMqRecord<T = unknown> {
  constructor(
    readonly data: T,
    readonly options: EmitOptions = {},
  ) {}
}
