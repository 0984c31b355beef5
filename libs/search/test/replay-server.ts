import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A local stand-in for Qdrant's REST API: it answers with recorded responses, in order, and keeps
 * every request it received so tests can assert what the adapter sent.
 *
 * The recordings (`recordings/*.json`) were WRITTEN BY HAND from the Qdrant REST API reference
 * (api.qdrant.tech, v1.17–1.19 pages, and the schema shipped in @qdrant/js-client-rest 1.18.0);
 * they were NOT captured from a live server — no Qdrant server was available. They pin down the
 * request mapping and the response parsing, not Qdrant's behaviour.
 */

export interface RecordedExchange {
  /** What the adapter is expected to send; the path excludes the query string. */
  readonly request: { readonly method: string; readonly path: string };
  readonly response: { readonly status: number; readonly body: unknown };
}

export interface Recording {
  readonly description: string;
  readonly source: string;
  readonly exchanges: readonly RecordedExchange[];
}

export interface ReceivedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, or `undefined` when there was none. */
  readonly body: unknown;
}

const RECORDINGS = join(__dirname, 'recordings');

/** A recording by file name (without `.json`). */
export function loadRecording(name: string): Recording {
  return JSON.parse(readFileSync(join(RECORDINGS, `${name}.json`), 'utf8')) as Recording;
}

export class ReplayServer {
  /** Every request received, oldest first. */
  readonly requests: ReceivedRequest[] = [];
  /** Requests no queued exchange matched (each was answered 500). */
  readonly unmatched: ReceivedRequest[] = [];
  private readonly queue: RecordedExchange[] = [];
  private readonly server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const url = new URL(request.url ?? '/', 'http://replay');
      const raw = Buffer.concat(chunks).toString('utf8');
      const { status, body } = this.answer({
        method: request.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers: request.headers,
        body: raw.length > 0 ? (JSON.parse(raw) as unknown) : undefined,
      });
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    });
  });
  private address = '';

  private constructor() {}

  /** Listens on 127.0.0.1 on a port the OS picks. */
  static async start(): Promise<ReplayServer> {
    const replay = new ReplayServer();
    await new Promise<void>((resolve, reject) => {
      replay.server.once('error', reject);
      replay.server.listen(0, '127.0.0.1', () => resolve());
    });
    replay.address = `http://127.0.0.1:${(replay.server.address() as AddressInfo).port}`;
    return replay;
  }

  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  get url(): string {
    return this.address;
  }

  /** Queues a recording's exchanges (after any still pending). */
  play(recording: Recording | readonly RecordedExchange[]): this {
    this.queue.push(...('exchanges' in recording ? recording.exchanges : recording));
    return this;
  }

  /** Exchanges not yet requested. */
  get pending(): readonly RecordedExchange[] {
    return this.queue;
  }

  /** Forgets what was received (the queue is kept). */
  clearRequests(): void {
    this.requests.length = 0;
    this.unmatched.length = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private answer(received: ReceivedRequest): { status: number; body: unknown } {
    this.requests.push(received);
    const index = this.queue.findIndex(
      (exchange) => exchange.request.method === received.method && exchange.request.path === received.path,
    );
    if (index === -1) {
      this.unmatched.push(received);
      return { status: 500, body: { status: { error: `replay: nothing recorded for ${received.method} ${received.path}` }, time: 0 } };
    }
    const [exchange] = this.queue.splice(index, 1);
    return exchange.response;
  }
}
