import { randomBytes } from 'node:crypto';
import type { ClientLog } from './client-log';

/** A document the suite uploaded and was told was accepted, with the word only it contains. */
export interface AcceptedDocument {
  documentId: string;
  tenantId: string;
  token: string;
  bytes: number;
}

const FILLER = [
  'The committee reviewed the quarterly figures and asked for a second estimate.',
  'Maintenance windows are announced a week ahead on the operations channel.',
  'Every invoice carries the purchase order number and the cost centre.',
  'Backups are restored once a month to prove that they can be.',
  'Visitors sign in at the front desk and wear their badge at all times.',
  'The archive keeps signed contracts for ten years after they end.',
];

/** A unique, searchable word: letters and digits, kept whole by the tokenizer (no stemming). */
export function uniqueToken(): string {
  return `qf${randomBytes(5).toString('hex')}`;
}

/**
 * Document text around its token. Most are small (all steps in one job); `large` ones pass the
 * inline limit (64 KiB) so they run step by step, exercising the chain of step jobs.
 */
export function documentText(token: string, large: boolean): string {
  const sentences = large ? 1100 : 12;
  const lines = [`# Record ${token}`, '', `This record is filed under the reference ${token}.`, ''];
  for (let i = 0; i < sentences; i++) lines.push(FILLER[i % FILLER.length]);
  return `${lines.join('\n')}\n`;
}

export interface UploadLoadOptions {
  concurrency: number;
  tenants: string[];
  /** Share of uploads that are large (step-by-step) documents. */
  largeShare: number;
  /** Delete every n-th accepted document again (0: never). */
  deleteEvery: number;
  /** Stop after this many accepted documents (the loop also stops on `stop()`). */
  maxAccepted?: number;
  /** Pause after each upload, per loop: the load stays a steady trickle, not a backlog. */
  paceMs?: number;
  /**
   * Backpressure, as a client that waits for its uploads does: no new upload while this many
   * accepted documents are still waiting or in work (`backlog` says how many are).
   */
  maxBacklog?: { documents: number; backlog: () => Promise<number> };
}

/**
 * Uploads documents through the gateway as real clients do, with a few in flight at once, and
 * deletes some again. Remembers exactly what the API accepted and deleted: that is what the
 * invariants are checked against.
 */
export class UploadLoad {
  readonly accepted = new Map<string, AcceptedDocument>();
  readonly deleted = new Map<string, AcceptedDocument>();
  private running = false;
  private loops: Promise<void>[] = [];
  private uploads = 0;
  private acceptances = 0;

  constructor(
    private readonly gatewayUrl: string,
    private readonly log: ClientLog,
    private readonly options: UploadLoadOptions,
  ) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.options.concurrency }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Uploads `count` documents one after another (outside the background loops). */
  async uploadMany(count: number): Promise<void> {
    for (let i = 0; i < count; i++) await this.uploadOne();
  }

  private async loop(): Promise<void> {
    while (this.running && (this.options.maxAccepted === undefined || this.accepted.size < this.options.maxAccepted)) {
      if (await this.backedUp()) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      const outcome = await this.uploadOne();
      // Back off a little while the platform says it is unavailable, as a polite client does.
      const pause = outcome === 'accepted' ? (this.options.paceMs ?? 0) : 200;
      if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }

  private async backedUp(): Promise<boolean> {
    const limit = this.options.maxBacklog;
    if (!limit) return false;
    // While the count cannot be read (the database is down), uploads would be refused anyway.
    return (await limit.backlog().catch(() => limit.documents)) >= limit.documents;
  }

  async uploadOne(): Promise<'accepted' | 'refused'> {
    const number = this.uploads++;
    const token = uniqueToken();
    const tenantId = this.options.tenants[number % this.options.tenants.length];
    const large = Math.random() < this.options.largeShare;
    const text = documentText(token, large);
    const form = new FormData();
    form.append('file', new Blob([text], { type: 'text/markdown' }), `${token}.md`);
    const { status, json } = await this.log.send(this.gatewayUrl, 'POST', '/api/documents', { body: form, headers: { 'x-tenant-id': tenantId } });
    if (status !== 202 && status !== 200) return 'refused';
    const { documentId } = json as { documentId: string };
    const document = { documentId, tenantId, token, bytes: text.length };
    this.accepted.set(documentId, document);
    if (this.options.deleteEvery > 0 && ++this.acceptances % this.options.deleteEvery === 0) await this.delete(document);
    return 'accepted';
  }

  private async delete(document: AcceptedDocument): Promise<void> {
    const { status } = await this.log.send(this.gatewayUrl, 'DELETE', `/api/documents/${document.documentId}`, { headers: { 'x-tenant-id': document.tenantId } });
    if (status === 204) {
      this.accepted.delete(document.documentId);
      this.deleted.set(document.documentId, document);
    }
  }
}

/**
 * Asks questions through the gateway in a closed loop, about documents that are indexed, and
 * counts what came back (the ClientLog judges each response).
 */
export class QueryLoad {
  readonly outcomes = { answered: 0, unavailable: 0, other: 0 };
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly gatewayUrl: string,
    private readonly log: ClientLog,
    private readonly documents: () => AcceptedDocument[],
    private readonly concurrency: number,
  ) {}

  start(): void {
    this.running = true;
    this.loops = Array.from({ length: this.concurrency }, () => this.loop());
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** Counts since the last reset (to measure one outage window). */
  reset(): void {
    this.outcomes.answered = 0;
    this.outcomes.unavailable = 0;
    this.outcomes.other = 0;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      const candidates = this.documents();
      const document = candidates[Math.floor(Math.random() * candidates.length)];
      if (!document) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      const { status } = await this.log.send(this.gatewayUrl, 'POST', '/api/query', {
        headers: { 'content-type': 'application/json', 'x-tenant-id': document.tenantId },
        body: JSON.stringify({ question: `What is filed under the reference ${document.token}?` }),
      });
      if (status === 200) this.outcomes.answered++;
      else if (status === 503) this.outcomes.unavailable++;
      else this.outcomes.other++;
      if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}
