import { type Socket, connect } from 'node:net';

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One TCP connection to the server, driven byte by byte: for requests `fetch` refuses to send
 * (oversized headers, lying Content-Length, half a body) and for watching when the server answers
 * and when it hangs up.
 */
export class RawConnection {
  private received = Buffer.alloc(0);
  private ended = false;
  private readonly waiters = new Set<() => void>();
  /** Write errors (the server hung up while we were still sending) are expected, not failures. */
  writeError: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.wake();
    });
    const end = () => {
      this.ended = true;
      this.wake();
    };
    socket.on('end', end);
    socket.on('close', end);
    socket.on('error', (error) => {
      this.writeError = error;
      end();
    });
  }

  static open(url: string): Promise<RawConnection> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: hostname, port: Number(port) }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  /** Sends bytes, resolving once they are handed to the OS (or the server has hung up). */
  write(data: string | Buffer): Promise<void> {
    if (this.ended || this.socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** Half-closes: the server sees the end of the request stream but may still answer. */
  endSending(): void {
    this.socket.end();
  }

  /** True once a complete response has arrived. */
  get responded(): boolean {
    return parseResponse(this.received) !== undefined;
  }

  /** True once the server closed the connection. */
  get closed(): boolean {
    return this.ended;
  }

  /** Resolves with the first complete response (Content-Length or chunked framing). */
  async response(timeoutMs = 5000): Promise<RawResponse> {
    const parsed = await this.until(() => parseResponse(this.received), timeoutMs, 'a complete HTTP response');
    return parsed;
  }

  /** Resolves once the server has closed the connection. */
  async serverClosed(timeoutMs = 5000): Promise<void> {
    await this.until(() => (this.ended ? true : undefined), timeoutMs, 'the server to close the connection');
  }

  /** Everything received so far, as text. */
  get text(): string {
    return this.received.toString('utf8');
  }

  destroy(): void {
    this.socket.destroy();
  }

  private until<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const value = probe();
        if (value !== undefined) {
          finish();
          resolve(value);
        } else if (this.ended && probe() === undefined) {
          finish();
          reject(new Error(`connection closed before ${what}; received ${JSON.stringify(this.text.slice(0, 500))}`));
        }
      };
      const timer = setTimeout(() => {
        finish();
        reject(new Error(`timed out waiting for ${what}; received ${JSON.stringify(this.text.slice(0, 500))}`));
      }, timeoutMs);
      const finish = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Parses one HTTP/1.1 response from the start of `bytes`, or undefined when it is not complete yet. */
export function parseResponse(bytes: Buffer): RawResponse | undefined {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd < 0) return undefined;
  const [statusLine, ...lines] = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = bytes.subarray(headEnd + 4);
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (rest.length < length) return undefined;
    return { status, headers, body: rest.subarray(0, length).toString('utf8') };
  }
  if (headers['transfer-encoding'] === 'chunked') {
    const chunks: Buffer[] = [];
    let offset = 0;
    for (;;) {
      const lineEnd = rest.indexOf('\r\n', offset);
      if (lineEnd < 0) return undefined;
      const size = parseInt(rest.subarray(offset, lineEnd).toString('latin1'), 16);
      if (size === 0) return { status, headers, body: Buffer.concat(chunks).toString('utf8') };
      if (rest.length < lineEnd + 2 + size + 2) return undefined;
      chunks.push(rest.subarray(lineEnd + 2, lineEnd + 2 + size));
      offset = lineEnd + 2 + size + 2;
    }
  }
  return { status, headers, body: '' };
}
