import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { repoRoot } from './repo-root';
import { waitFor } from './wait-for';

export const SERVICE_NAMES = ['gateway', 'ingestion', 'retrieval', 'agent', 'task-scheduler'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];
export type StackKeyRole = 'read' | 'write' | 'admin';

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
  /** Processes that exited without being asked to, with their last output. */
  readonly crashes: Array<{ key: string; code: number | null; logs: string }> = [];
  /** How each process was started, so it can be started again the same way. */
  private readonly launches = new Map<string, { service: ServiceName; port: number; extraEnv: Record<string, string> }>();

  constructor(private readonly options: StackOptions) {}

  get gatewayUrl(): string {
    return `http://127.0.0.1:${this.ports.get('gateway')}`;
  }

  urlOf(service: ServiceName): string {
    return `http://127.0.0.1:${this.ports.get(service)}`;
  }

  /** Where the gateway writes the admin key it creates on first boot (never into the working tree). */
  get bootstrapKeyFile(): string {
    return join(tmpdir(), `quarry-stack-${this.options.redisPrefix.replace(/[^A-Za-z0-9_-]/g, '_')}`, 'admin-key');
  }

  /**
   * A new API key for the tenant, made the way an operator makes one (`npm run keys -- create`,
   * the built CLI, against this stack's database). Resolves with the secret.
   */
  async createApiKey(tenantId: string, role: StackKeyRole, options: { name?: string; expiresIn?: string } = {}): Promise<string> {
    const cli = join(repoRoot(), 'dist', 'tools', 'cli', 'quarry-keys.js');
    if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
    const args = [cli, 'create', '--tenant', tenantId, '--role', role, '--json'];
    if (options.name) args.push('--name', options.name);
    if (options.expiresIn) args.push('--expires-in', options.expiresIn);
    const { stdout } = await promisify(execFile)(process.execPath, args, { env: { PATH: process.env.PATH, ...this.cliEnv() } });
    return (JSON.parse(stdout) as { key: string }).key;
  }

  /** What the stack's services and the CLI are pointed at. */
  private cliEnv(): Record<string, string> {
    return {
      DATABASE_URL: this.options.databaseUrl,
      DATABASE_SCHEMA: this.options.databaseSchema,
      REDIS_URL: this.options.redisUrl,
      REDIS_PREFIX: this.options.redisPrefix,
    };
  }

  async start(): Promise<void> {
    for (const service of SERVICE_NAMES) this.ports.set(service, await freePort());
    await Promise.all(SERVICE_NAMES.map((service) => this.startService(service)));
  }

  /** Starts one service (again, optionally with extra environment) and waits until it is ready. */
  startService(service: ServiceName, extraEnv: Record<string, string> = {}): Promise<void> {
    return this.spawnProcess(service, service, this.ports.get(service) as number, extraEnv);
  }

  /**
   * Starts one more replica of a service (its own process and port); stopped with the stack.
   * Resolves with the replica's process key (for `killProcess` / `restartProcess`).
   */
  async startReplica(service: ServiceName, extraEnv: Record<string, string> = {}): Promise<string> {
    const key = `${service}#${++this.replicaCount}`;
    await this.spawnProcess(key, service, await freePort(), extraEnv);
    return key;
  }

  /** Process keys of a service: its first process (the service name) and its replicas (`name#n`). */
  processesOf(service: ServiceName): string[] {
    return [...this.launches.keys()].filter((key) => key === service || key.startsWith(`${service}#`));
  }

  isRunning(key: string): boolean {
    return this.processes.has(key);
  }

  /** SIGKILL, as a crash or an OOM kill does: no shutdown hooks run, jobs stay locked until their lock expires. */
  killProcess(key: string): Promise<number | null> {
    return this.stopProcess(key, 'SIGKILL');
  }

  /** Starts a process again with the port and environment it had, and waits until it is ready. */
  restartProcess(key: string): Promise<void> {
    const launch = this.launches.get(key);
    if (!launch) throw new Error(`no process ${key} was ever started`);
    return this.spawnProcess(key, launch.service, launch.port, launch.extraEnv);
  }

  private async spawnProcess(key: string, service: ServiceName, portNumber: number, extraEnv: Record<string, string>): Promise<void> {
    this.launches.set(key, { service, port: portNumber, extraEnv });
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
        ...this.cliEnv(),
        AUTH_BOOTSTRAP_KEY_FILE: this.bootstrapKeyFile,
        HOST: '127.0.0.1',
        PORT: port,
        HTTP_PORT: port,
        SHUTDOWN_TIMEOUT_MS: '5000',
        // Compiled code cached on disk: a restarted service boots about a quarter faster.
        NODE_COMPILE_CACHE: join(tmpdir(), 'quarry-node-compile-cache'),
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
      // Still registered: nobody asked it to stop (stopProcess unregisters first).
      if (this.processes.get(key)?.child === child) {
        this.processes.delete(key);
        this.crashes.push({ key, code, logs: this.logsOf(key) });
      }
    });
    await waitFor(
      async () => {
        if (exitCode !== undefined) throw new Error(`${key} exited with code ${exitCode}:\n${this.logsOf(key)}`);
        const response = await fetch(`http://127.0.0.1:${port}/health/ready`);
        return response.status === 200;
      },
      // Generous: on a loaded two-core machine (the whole suite in parallel) a boot has taken over 30 s.
      { timeoutMs: 60_000, intervalMs: 100, description: `${key} to become ready` },
    ).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\n--- ${key} output ---\n${this.logsOf(key)}`);
    });
  }

  /** Sends a signal to a service's first process (or to a replica, by its process key) and resolves with the exit code once it is gone. */
  stopService(service: string, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    return this.stopProcess(service, signal);
  }

  private async stopProcess(key: string, signal: NodeJS.Signals): Promise<number | null> {
    const running = this.processes.get(key);
    if (!running) return null;
    this.processes.delete(key);
    running.child.kill(signal);
    // A service that ignores SIGTERM for too long is killed, so a test run never hangs on it.
    const killer = setTimeout(() => running.child.kill('SIGKILL'), 15_000);
    const code = await running.exited;
    clearTimeout(killer);
    return code;
  }

  logsOf(service: string): string {
    return (this.output.get(service) ?? []).slice(-60).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.processes.keys()].map((key) => this.stopProcess(key, 'SIGTERM')));
  }
}
