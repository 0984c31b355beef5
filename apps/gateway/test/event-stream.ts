import { type ClientRequest, type IncomingMessage, get } from 'node:http';

export interface ServerSentEvent {
  event: string;
  data: unknown;
}

/**
 * A client of one server-sent-events response that records every event and comment line. Built on
 * node:http rather than fetch: closing it closes its socket at once (undici opens a spare
 * connection after an aborted body, which would keep the server's shutdown waiting).
 */
export class EventStream {
  readonly events: ServerSentEvent[] = [];
  comments = 0;
  ended = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly request: ClientRequest,
    private readonly response: IncomingMessage,
  ) {}

  /** Opens the stream; a non-200 answer is returned as is (its body unread). */
  static open(url: string, headers: Record<string, string> = {}): Promise<EventStream> {
    return new Promise((resolve, reject) => {
      const request = get(url, { headers, agent: false });
      request.once('error', reject);
      request.once('response', (response) => {
        const stream = new EventStream(request, response);
        if (response.statusCode === 200) stream.read();
        resolve(stream);
      });
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  header(name: string): string | undefined {
    const value = this.response.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** Resolves with the first event (from the start) that matches, or rejects after the timeout. */
  next(predicate: (event: ServerSentEvent) => boolean, timeoutMs = 5000, what = 'an event'): Promise<ServerSentEvent> {
    return this.until(() => this.events.find(predicate), timeoutMs, what);
  }

  /** Resolves once the server has ended the stream. */
  async closedByServer(timeoutMs = 5000): Promise<void> {
    await this.until(() => (this.ended ? true : undefined), timeoutMs, 'the server to end the stream');
  }

  /** Resolves once `count` comment lines (heartbeats) have arrived. */
  async heartbeats(count: number, timeoutMs = 5000): Promise<void> {
    await this.until(() => (this.comments >= count ? true : undefined), timeoutMs, `${count} heartbeats`);
  }

  close(): void {
    this.request.destroy();
  }

  private until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value === undefined) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events.map((event) => event.event))}, ended=${this.ended}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private read(): void {
    let buffered = '';
    this.response.setEncoding('utf8');
    this.response.on('data', (chunk: string) => {
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        this.parse(buffered.slice(0, end));
        buffered = buffered.slice(end + 2);
      }
      this.wake();
    });
    const ended = () => {
      this.ended = true;
      this.wake();
    };
    this.response.on('end', ended);
    this.response.on('close', ended);
    this.response.on('error', ended);
  }

  private parse(block: string): void {
    if (block.startsWith(':')) {
      this.comments++;
      return;
    }
    const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
    const data = /^data: (.*)$/m.exec(block)?.[1];
    this.events.push({ event, data: data === undefined ? undefined : (JSON.parse(data) as unknown) });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
