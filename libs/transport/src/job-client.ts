import type { EventJobName, PayloadIn, ReplyOf, RequestJobName } from '@quarry/contracts';
import { lastValueFrom } from 'rxjs';
import type { BullMqClient } from './bullmq.client';
import { BullMqRecord, type EmitOptions } from './bullmq.record';

/**
 * The typed face of the BullMQ client proxy: the job name decides the payload and reply types, so
 * a service cannot pair a name with the wrong data.
 */
export class JobClient {
  constructor(readonly proxy: BullMqClient) {}

  request<N extends RequestJobName>(name: N, payload: PayloadIn<N>): Promise<ReplyOf<N>> {
    return lastValueFrom(this.proxy.send<ReplyOf<N>, PayloadIn<N>>(name, payload));
  }

  publish<N extends EventJobName>(name: N, payload: PayloadIn<N>, options: EmitOptions = {}): Promise<{ jobId: string }> {
    return lastValueFrom(this.proxy.emit<{ jobId: string }>(name, new BullMqRecord(payload, options)));
  }

  publishMany<N extends EventJobName>(name: N, items: Array<{ payload: PayloadIn<N>; options?: EmitOptions }>): Promise<Array<{ jobId: string }>> {
    if (items.length === 0) return Promise.resolve([]);
    return this.proxy.emitMany(name, items.map((item) => new BullMqRecord(item.payload, item.options)));
  }

  close(): Promise<void> {
    return this.proxy.close();
  }
}
