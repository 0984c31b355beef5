import { Client } from 'pg';
import { CORPUS_VERSION_CHANNEL } from './migrations/1764600000000-corpus-version';

export interface CorpusVersionsOptions {
  databaseUrl: string;
  schema: string;
  /** How long to wait before listening again after the connection broke. */
  reconnectDelayMs?: number;
  onStateChange?: (listening: boolean) => void;
  /** Shown in pg_stat_activity (default quarry-corpus-versions). */
  applicationName?: string;
}

interface Announcement {
  schema: string;
  tenant: string;
  version: string;
}

/**
 * Each tenant's corpus version (see the CorpusVersion migration), known to this process without a
 * query per request. Postgres announces every bump on commit (LISTEN/NOTIFY); while this process
 * listens, a version it read once stays right until the next announcement. While it does not listen
 * (the connection broke), it asks Postgres on every call, and only if Postgres cannot be reached
 * either does it answer the last version it knew — no index change can commit unseen by a
 * database that nobody can reach — or throws when it never knew one. Every (re)start of listening
 * forgets what it knew, since announcements may have been missed meanwhile.
 */
export class CorpusVersions {
  private readonly known = new Map<string, bigint>();
  /** Counts forget() calls, so a read that was under way meanwhile does not put back what was forgotten. */
  private forgotten = 0;
  private listener: Client | undefined;
  private listening = false;
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reader: Client | undefined;

  constructor(private readonly options: CorpusVersionsOptions) {}

  /** Starts listening; resolves once listening (or after the first failure, retrying in the background). */
  async start(): Promise<void> {
    await this.listen();
  }

  get isListening(): boolean {
    return this.listening;
  }

  /** The tenant's corpus version, as a decimal string (0 for a tenant with no documents yet). */
  async current(tenantId: string): Promise<string> {
    const known = this.known.get(tenantId);
    if (this.listening && known !== undefined) return known.toString();
    const forgotten = this.forgotten;
    try {
      const read = await this.read(tenantId);
      // An announcement may have overtaken the read: versions only grow.
      const latest = this.known.get(tenantId) ?? known;
      const version = latest !== undefined && latest > read ? latest : read;
      // A read that began before a forget() may predate the change that caused it: not kept.
      if (this.listening && forgotten === this.forgotten) this.known.set(tenantId, version);
      return version.toString();
    } catch (error) {
      if (known !== undefined) return known.toString();
      throw error;
    }
  }

  /**
   * Makes the next current(tenantId) ask Postgres. For a process that saw a change of the tenant
   * commit by other means (the retrieval index's feed) before its announcement arrived: what it
   * reads next is at least that change's version (read-your-writes, which NOTIFY alone cannot give).
   */
  forget(tenantId: string): void {
    this.known.delete(tenantId);
    this.forgotten++;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.setListening(false);
    await Promise.allSettled([this.listener?.end(), this.reader?.end()]);
  }

  private async read(tenantId: string): Promise<bigint> {
    if (!this.reader) {
      const reader = this.connection();
      reader.on('error', () => {
        if (this.reader === reader) this.reader = undefined;
      });
      this.reader = reader;
      try {
        await reader.connect();
      } catch (error) {
        this.reader = undefined;
        throw error;
      }
    }
    const { rows } = await this.reader.query<{ corpus_version: string }>('SELECT corpus_version FROM tenants WHERE id = $1', [tenantId]);
    return BigInt(rows[0]?.corpus_version ?? 0);
  }

  private async listen(): Promise<void> {
    if (this.closed) return;
    const listener = this.connection();
    this.listener = listener;
    listener.on('notification', (message) => {
      if (message.channel !== CORPUS_VERSION_CHANNEL || !message.payload) return;
      const announcement = JSON.parse(message.payload) as Announcement;
      if (announcement.schema !== this.options.schema) return;
      const version = BigInt(announcement.version);
      const known = this.known.get(announcement.tenant);
      if (known === undefined || version > known) this.known.set(announcement.tenant, version);
    });
    const broken = () => {
      if (this.listener !== listener) return;
      this.listener = undefined;
      this.setListening(false);
      void listener.end().catch(() => undefined);
      this.scheduleReconnect();
    };
    listener.on('error', broken);
    listener.on('end', broken);
    try {
      await listener.connect();
      await listener.query(`LISTEN ${CORPUS_VERSION_CHANNEL}`);
      // Whatever was known before may have missed announcements.
      this.known.clear();
      this.setListening(true);
    } catch {
      broken();
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.reconnectTimer) return;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.listen();
    }, this.options.reconnectDelayMs ?? 1000);
    this.reconnectTimer.unref();
  }

  private setListening(listening: boolean): void {
    if (this.listening === listening) return;
    this.listening = listening;
    this.options.onStateChange?.(listening);
  }

  private connection(): Client {
    return new Client({
      connectionString: this.options.databaseUrl,
      options: `-c search_path=${this.options.schema}`,
      connectionTimeoutMillis: 3000,
      query_timeout: 3000,
      application_name: this.options.applicationName ?? 'quarry-corpus-versions',
    });
  }
}
