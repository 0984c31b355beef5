import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './free-port';
import { waitFor } from './wait-for';

export interface PrivateRedisOptions {
  /** Keep data across restarts in an append-only file (as production Redis is run). */
  appendOnly?: boolean;
}

/**
 * A redis-server of the test's own, on a spare port, that the test may kill and restart (the shared
 * Redis on 6379 is never touched). With `appendOnly`, a restart keeps what was written; `restartEmpty`
 * always comes back with nothing, like a Redis without persistence or with its data lost.
 */
export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: PrivateRedisOptions,
  ) {}

  static async start(options: PrivateRedisOptions = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), await mkdtemp(join(tmpdir(), 'quarry-redis-')), options);
    await redis.startProcess();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** SIGKILL: no chance to save anything beyond what the append-only file already holds. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    child.kill('SIGKILL');
    await this.exited;
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.startProcess();
  }

  /** Kills the server, discards its data, and starts it again empty. */
  async restartEmpty(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
    await this.startProcess();
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async startProcess(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
    args.push('--appendonly', this.options.appendOnly ? 'yes' : 'no');
    if (this.options.appendOnly) args.push('--appendfsync', 'always');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    await waitFor(
      async () => {
        const probe = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          return (await probe.ping()) === 'PONG';
        } finally {
          probe.disconnect();
        }
      },
      { timeoutMs: 10_000, intervalMs: 50, description: `redis-server on port ${this.port} to answer` },
    );
  }
}
