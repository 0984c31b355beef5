import { execFile as execFileCallback } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';

const execFile = promisify(execFileCallback);

/** The server binaries of the newest installed PostgreSQL (Debian layout). */
async function postgresBin(): Promise<string> {
  const versions = (await readdir('/usr/lib/postgresql')).sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no PostgreSQL server under /usr/lib/postgresql');
  return join('/usr/lib/postgresql', versions[0], 'bin');
}

/**
 * A PostgreSQL cluster of the test's own (initdb + pg_ctl) on a spare port, that the test may stop
 * and start (the shared server on 5432 is never touched). Trust auth, role `postgres`. initdb
 * refuses to run as root, so as root the cluster runs as the `postgres` system user.
 */
export class PrivatePostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly bin: string,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'quarry-pg-'));
    await chmod(dir, 0o777);
    const server = new PrivatePostgres(await freePort(), dir, await postgresBin());
    await server.run('initdb', ['-D', server.dataDir, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await server.startServer();
    return server;
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** `immediate` is a crash stop: connections drop, nothing is flushed politely. */
  async stopServer(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    await this.run('pg_ctl', ['-D', this.dataDir, '-m', mode, '-w', 'stop']);
  }

  async startServer(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${this.dir} -c fsync=off -c max_connections=200`;
    await this.run('pg_ctl', ['-D', this.dataDir, '-o', options, '-l', join(this.dir, 'server.log'), '-w', 'start']);
  }

  async restart(mode: 'fast' | 'immediate' = 'immediate'): Promise<void> {
    await this.stopServer(mode);
    await this.startServer();
  }

  async destroy(): Promise<void> {
    await this.stopServer('immediate').catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }

  private async run(command: string, args: string[]): Promise<void> {
    const path = join(this.bin, command);
    if (process.getuid?.() === 0) await execFile('runuser', ['-u', 'postgres', '--', path, ...args]);
    else await execFile(path, args);
  }
}
