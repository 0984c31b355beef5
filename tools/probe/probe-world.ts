import { createHash, randomBytes } from 'node:crypto';
import type { StackKeyRole } from '@quarry/testing';
import type { TenantSecrets } from './hit-detector';
import type { TenantSnapshot } from './row-ledger';

export type SeededState = 'indexed' | 'failed' | 'queued' | 'cancelled';

export interface SeededDocument {
  id: string;
  jobId: string;
  filename: string;
  bytes: Buffer;
  sha256: string;
  state: SeededState;
}

/** New rows a tenant's own successful requests made during the run, by table. */
export interface OwnWrites {
  documents: number;
  document_contents: number;
  api_keys: number;
  conversations: number;
  messages: number;
  query_log: number;
  /** Continuations of the tenant's control conversation (two messages each). */
  continuations: number;
}

/** One seeded tenant: what it owns, how to act as it, and what must never reach anyone else. */
export interface TenantWorld {
  index: number;
  id: string;
  /** Planted in every document, filename, question and key name of the tenant. */
  marker: string;
  keys: Record<StackKeyRole, string>;
  keyIds: string[];
  documents: SeededDocument[];
  /** Every conversation of the tenant (attack targets), the control conversation included. */
  conversations: string[];
  /** The one conversation the tenant's own controls continue. */
  controlConversation: string;
  /** The query ids of the tenant's seeded questions (their traces and reports are attack targets). */
  queries: string[];
  /** The tenant's seeded tasks (one completed, one scheduled for tomorrow): attack targets, still while the probe runs. */
  tasks: string[];
  /** Every document id of the tenant, uploads during the run included (citations must be among them). */
  ownDocuments: Set<string>;
  /** Hashes of other tenants' bytes this tenant uploaded itself (its own copies carry them). */
  held: Set<string>;
  writes: OwnWrites;
  before?: TenantSnapshot;
  secrets?: TenantSecrets;
}

export const sha256Of = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

export function newWorld(index: number): TenantWorld {
  return {
    index,
    id: `probe-${index}-${randomBytes(3).toString('hex')}`,
    marker: `zq${randomBytes(6).toString('hex')}`,
    keys: { read: '', write: '', admin: '' },
    keyIds: [],
    documents: [],
    conversations: [],
    controlConversation: '',
    queries: [],
    tasks: [],
    ownDocuments: new Set(),
    held: new Set(),
    writes: { documents: 0, document_contents: 0, api_keys: 0, conversations: 0, messages: 0, query_log: 0, continuations: 0 },
  };
}

/** A document of the tenant, every line of it carrying the tenant's marker. */
export function markedDocument(world: TenantWorld, topic: string): Buffer {
  const { marker } = world;
  return Buffer.from(
    `# ${topic} ${marker}\n\n` +
      `The vault code of this company is ${marker}. Paid vacation is ${20 + world.index} days a year (${marker}).\n\n` +
      `## ${topic} details\n\nThe ${topic} is reviewed every spring by the ${marker} committee.\n`,
  );
}

/** Bytes that look like a PDF and are not one: ingestion fails them as corrupt. */
export function corruptPdf(world: TenantWorld): Buffer {
  return Buffer.concat([Buffer.from(`%PDF-1.7\n% ${world.marker}\n1 0 obj << /Type /Catalog >> broken`), randomBytes(64)]);
}
