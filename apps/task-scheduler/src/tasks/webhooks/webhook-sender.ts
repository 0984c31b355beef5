import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/** The address is one webhooks may not reach (TASK_WEBHOOK_ADDRESSES): trying again cannot help. */
export class WebhookAddressRefused extends Error {}

export interface WebhookSenderOptions {
  /** `public`: private, loopback, link-local and reserved addresses are refused, after DNS (a rebinding name cannot slip through). */
  addresses: 'public' | 'any';
  timeoutMs: number;
}

// What the sender keeps of an answer: receivers only need to say 2xx.
const MAX_RESPONSE_BYTES = 64 * 1024;

/**
 * POSTs one webhook push and resolves with the receiver's status. Redirects are not followed (a
 * redirect could lead anywhere the address check did not look); the answer's body is read and
 * dropped, bounded.
 */
export class WebhookSender {
  private readonly httpAgent: RequestFilteringHttpAgent;
  private readonly httpsAgent: RequestFilteringHttpsAgent;

  constructor(private readonly options: WebhookSenderOptions) {
    const filter = { allowPrivateIPAddress: options.addresses === 'any', allowMetaIPAddress: false };
    this.httpAgent = new RequestFilteringHttpAgent(filter);
    this.httpsAgent = new RequestFilteringHttpsAgent(filter);
  }

  send(url: string, body: string, headers: Record<string, string>): Promise<number> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    return new Promise((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(
        target,
        {
          method: 'POST',
          agent: secure ? this.httpsAgent : this.httpAgent,
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Quarry-Webhooks/1', ...headers },
          timeout: this.options.timeoutMs,
        },
        (response) => {
          let received = 0;
          response.on('data', (chunk: Buffer) => {
            received += chunk.length;
            if (received > MAX_RESPONSE_BYTES) response.destroy();
          });
          response.on('close', () => resolve(response.statusCode ?? 0));
          response.on('error', () => resolve(response.statusCode ?? 0));
        },
      );
      request.on('timeout', () => request.destroy(new Error(`the receiver did not answer within ${this.options.timeoutMs} ms`)));
      request.on('error', (error) => reject(/is not allowed/.test(error.message) ? new WebhookAddressRefused(`refused: ${target.hostname} is not a public address (TASK_WEBHOOK_ADDRESSES=public)`) : error));
      request.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
