import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './free-port';
import { repoRoot } from './repo-root';
import { waitFor } from './wait-for';

export const SERVICE_NAMES = ['gateway', 'ingestion', 'retrieval', 'agent', 'task-scheduler'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];


export interface StackOptions {
  databaseUrl: string;
  databaseSchema: string;
  redisUrl: string;
  redisPrefix: string;
  /** Extra environment for every service (e.g. LLM_BASE_URL). */
  env?: Record<string, string>;
  /** Where each service's output goes; by default it is kept in memory for error reports. */
  onOutput?: (service: ServiceName, line: string) => void;
}

interface RunningProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
}

/**
 * The five Quarry services as real, separate Node processes built by `npm run build`, on free
 * ports, against the given Postgres schema and Redis prefix. For end-to-end tests and benchmarks.
 */
export class ServiceStack {
  readonly ports = new Map<ServiceName, number>();
  private readonly processes = new Map<string, RunningProcess>();
  private readonly output = new Map<string, string[]>();
  private replicaCount = 0;

  constructor(private readonly options: StackOptions) {}

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.ports.get('gateway')}`;
  }

  urlOf(service: ServiceName): string {
    return `http://127.0.0.1:${this.ports.get(service)}`;
  }

  async start(): Promise<void> {
    for (const service of SERVICE_NAMES) this.ports.set(service, await freePort());
    await Promise.all(SERVICE_NAMES.map((service) => this.startService(service)));
  }

  /** Starts one service (again, optionally with extra environment) and waits until it is ready. */
  startService(service: ServiceName, extraEnv: Record<string, string> = {}): Promise<void> {
    return this.spawnProcess(service, service, this.ports.get(service) as number, extraEnv);
  }

  /** Starts one more replica of a service (its own process and port); stopped with the stack. */
  async startReplica(service: ServiceName): Promise<void> {
    await this.spawnProcess(`${service}#${++this.replicaCount}`, service, await freePort(), {});
  }

  private async spawnProcess(key: string, service: ServiceName, portNumber: number, extraEnv: Record<string, string>): Promise<void> {
    const root = repoRoot();
    const entry = join(root, 'dist', 'apps', service, 'src', 'main.js');
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
    const port = String(portNumber);
    const child = spawn(process.execPath, [entry], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        DATABASE_URL: this.options.databaseUrl,
        DATABASE_SCHEMA: this.options.databaseSchema,
        REDIS_URL: this.options.redisUrl,
        REDIS_PREFIX: this.options.redisPrefix,
        HOST: '127.0.0.1',
        PORT: port,
        HTTP_PORT: port,
        SHUTDOWN_TIMEOUT_MS: '5000',
        ...this.options.env,
        ...extraEnv,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines = this.output.get(key) ?? [];
    this.output.set(key, lines);
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n').filter(Boolean)) {
        lines.push(line);
        if (lines.length > 400) lines.shift();
        this.options.onOutput?.(service, line);
      }
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    this.processes.set(key, { child, exited });
    let exitCode: number | null | undefined;
    void exited.then((code) => {
      exitCode = code;
    });
    await waitFor(
      async () => {
        if (exitCode !== undefined) throw new Error(`${key} exited with code ${exitCode}:\n${this.logsOf(key)}`);
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return response.status === 200;
      },
      { timeoutMs: 30_000, intervalMs: 100, description: `${key} to become ready` },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- ${key} output ---\n${this.logsOf(key)}`);
    });
  }

  /** Sends a signal and resolves with the exit code once the process is gone. */
  stopService(service: ServiceName, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    return this.stopProcess(service, signal);
  }

  private async stopProcess(key: string, signal: NodeJS.Signals): Promise<number | null> {
    const running = this.processes.get(key);
    if (!running) return null;
    running.child.kill(signal);
    // A service that ignores SIGTERM for too long is killed, so a test run never hangs on it.
    const killer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
    const code = await running.exited;
    clearTimeout(killer);
    this.processes.delete(key);
    return code;
  }

  logsOf(service: string): string {
    return (this.output.get(service) ?? []).slice(-60).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((key) => this.stopProcess(key, 'SIGTERM')));
  }
}
