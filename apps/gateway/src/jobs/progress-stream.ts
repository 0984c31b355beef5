import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type JobView, JobsService } from './jobs.service';

/**
 * One server-sent-events response: a `progress` event whenever the job's status, stage or percent
 * change, then one `done` event with the final state. Comment lines keep idle proxies from
 * closing the stream, also while no update can be read (the database is down).
 */
export class ProgressStream {
  private lastSent = '';
  private finished = false;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly onFinish: Array<() => void> = [];
  // Kept: the response lets go of its socket once it is closed.
  private readonly socket: Socket | null;

  constructor(
    private readonly out: ServerResponse,
    options: { heartbeatMs: number; correlationId?: string },
  ) {
    this.socket = out.socket;
    out.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...(options.correlationId ? { 'x-correlation-id': options.correlationId } : {}),
    });
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), options.heartbeatMs);
    out.on('close', () => this.clientGone());
    out.on('error', () => this.clientGone());
    // The client may have left while the first view was being read.
    if (out.destroyed || !out.socket || out.socket.destroyed) this.clientGone();
  }

  get ended(): boolean {
    return this.finished;
  }

  /** Runs once the stream is over, however it ended (done, client gone, shutdown). */
  whenEnded(cleanup: () => void): void {
    if (this.finished) cleanup();
    else this.onFinish.push(cleanup);
  }

  /** Sends `progress` when the view differs from the last one sent, then `done` (ending the stream) when it is final. */
  update(view: JobView): void {
    if (this.finished) return;
    const fingerprint = JobsService.fingerprint(view);
    if (fingerprint !== this.lastSent) {
      this.send('progress', view);
      this.lastSent = fingerprint;
    }
    if (JobsService.isTerminal(view)) {
      this.send('done', view);
      this.end();
    }
  }

  /** An `error` event (the job is gone), then the end. */
  fail(error: { code: string; message: string }): void {
    this.send('error', error);
    this.end();
  }

  end(): void {
    if (this.finished) return;
    this.finish();
    this.out.end();
  }

  private send(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private write(text: string): void {
    if (!this.finished && !this.out.writableEnded && !this.out.destroyed) this.out.write(text);
  }

  /**
   * The client closed its side: the stream is over. The socket is torn down too; the HTTP server
   * allows half-open connections, so it would otherwise stay open (and keep shutdown waiting).
   */
  private clientGone(): void {
    if (this.finished) return;
    this.finish();
    this.socket?.destroy();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.heartbeat);
    for (const cleanup of this.onFinish.splice(0)) cleanup();
  }
}
