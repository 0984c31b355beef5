import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * One server-sent-events response, with the conventions of the job progress streams
 * (jobs/progress-stream.ts): no caching or proxy buffering, comment heartbeats, and a client that
 * goes away tears the socket down (the server allows half-open connections). `onClientGone` runs
 * once if the client left before the stream was ended.
 */
export class SseResponse {
  private finished = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onGone: Array<() => void> = [];
  private readonly onFinish: Array<() => void> = [];
  // Kept: the response lets go of its socket once it is closed.
  private readonly socket: Socket | null;

  constructor(
    private readonly out: ServerResponse,
    options: { heartbeatMs: number; headers?: OutgoingHttpHeaders },
  ) {
    this.socket = out.socket;
    out.writeHead(200, {
      ...options.headers,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    // Headers leave now: a client sees the stream open before the first event.
    out.flushHeaders();
    this.socket?.setNoDelay(true);
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), options.heartbeatMs);
    out.on('close', () => this.clientGone());
    out.on('error', () => this.clientGone());
    if (out.destroyed || !out.socket || out.socket.destroyed) setImmediate(() => this.clientGone());
  }

  get ended(): boolean {
    return this.finished;
  }

  /** Runs once if the client leaves before the stream is ended. */
  whenClientGone(listener: () => void): void {
    this.onGone.push(listener);
  }

  /** Runs once the stream is over, however it ended. */
  whenEnded(cleanup: () => void): void {
    if (this.finished) cleanup();
    else this.onFinish.push(cleanup);
  }

  /** An event with a name (`event:` line) and JSON data, or (no name) a bare `data:` line as OpenAI streams send. */
  send(event: string | undefined, data: unknown): void {
    const line = `data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
    this.write(event === undefined ? line : `event: ${event}\n${line}`);
  }

  end(): void {
    if (this.finished) return;
    this.finish();
    this.out.end();
  }

  private write(text: string): void {
    if (!this.finished && !this.out.writableEnded && !this.out.destroyed) this.out.write(text);
  }

  private clientGone(): void {
    if (this.finished) return;
    this.finish();
    this.socket?.destroy();
    for (const listener of this.onGone.splice(0)) listener();
  }

  private finish(): void {
    this.finished = true;
    clearInterval(this.heartbeat);
    for (const cleanup of this.onFinish.splice(0)) cleanup();
  }
}
