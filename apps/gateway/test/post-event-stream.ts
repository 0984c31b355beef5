import { type ClientRequest, type IncomingMessage, request as httpRequest } from 'node:http';

export interface PostedEvent {
  /** The `event:` name, or `message` for a bare `data:` line. */
  event: string;
  /** The `data:` line as sent (JSON text, or `[DONE]`). */
  data: string;
}

/**
 * A client of one server-sent-events answer to a POST (the streamed `POST /api/query` and
 * `/v1/chat/completions`), built on node:http so closing it closes its socket at once.
 */
export class PostEventStream {
  readonly events: PostedEvent[] = [];
  body = '';
  ended = false;
  private readonly waiters = new Set<() => void>();

  private constructor(
    private readonly request: ClientRequest,
    readonly response: IncomingMessage,
  ) {}

  static open(url: string, body: unknown, headers: Record<string, string> = {}): Promise<PostEventStream> {
    return new Promise((resolve, reject) => {
      const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, agent: false });
      request.once('error', reject);
      request.once('response', (response) => {
        const stream = new PostEventStream(request, response);
        stream.read();
        resolve(stream);
      });
      request.end(JSON.stringify(body));
    });
  }

  get status(): number {
    return this.response.statusCode ?? 0;
  }

  header(name: string): string | undefined {
    const value = this.response.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  /** The data of every event of this name, parsed as JSON. */
  data<T = Record<string, unknown>>(event: string): T[] {
    return this.events.filter((entry) => entry.event === event && entry.data !== '[DONE]').map((entry) => JSON.parse(entry.data) as T);
  }

  next(predicate: (event: PostedEvent) => boolean, timeoutMs = 5000): Promise<PostedEvent> {
    return this.until(() => this.events.find(predicate), timeoutMs, 'an event');
  }

  async closedByServer(timeoutMs = 5000): Promise<void> {
    await this.until(() => (this.ended ? true : undefined), timeoutMs, 'the server to end the stream');
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
        reject(new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.events.map((event) => event.event))}, ended=${this.ended}, body=${this.body.slice(0, 300)}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  private read(): void {
    let buffered = '';
    this.response.setEncoding('utf8');
    this.response.on('data', (chunk: string) => {
      this.body += chunk;
      buffered += chunk;
      let end: number;
      while ((end = buffered.indexOf('\n\n')) >= 0) {
        const block = buffered.slice(0, end);
        buffered = buffered.slice(end + 2);
        if (block.startsWith(':')) continue;
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (data !== undefined) this.events.push({ event: /^event: (.*)$/m.exec(block)?.[1] ?? 'message', data });
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

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
