/**
 * Child process of `npm run bench:sse`: holds the idle progress streams, so that their sockets and
 * events cost the measuring process nothing. Messages from the parent: `{ open: { gatewayUrl,
 * jobs } }` opens one stream per job (answering `{ opened: n }` once each got its first event),
 * `{ close: true }` closes them all (answering `{ closed: n }`).
 */
import { Agent, type ClientRequest, get } from 'node:http';

interface OpenMessage {
  open?: { gatewayUrl: string; jobs: Array<{ tenant: string; jobId: string }> };
  close?: boolean;
}

// One socket per stream, as separate clients would have.
const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
let streams: ClientRequest[] = [];

/** Opens one progress stream and resolves once its first event has arrived. */
function openStream(gatewayUrl: string, tenant: string, jobId: string): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const request = get(`${gatewayUrl}/api/jobs/${jobId}/events`, { headers: { 'x-tenant-id': tenant }, agent });
    request.once('error', reject);
    request.once('response', (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`stream refused: ${response.statusCode}`));
        return;
      }
      response.once('data', () => resolve(request));
      response.on('error', () => undefined);
    });
  });
}

async function open({ gatewayUrl, jobs }: NonNullable<OpenMessage['open']>): Promise<void> {
  for (let start = 0; start < jobs.length; start += 50) {
    streams.push(...(await Promise.all(jobs.slice(start, start + 50).map((job) => openStream(gatewayUrl, job.tenant, job.jobId)))));
  }
  process.send?.({ opened: streams.length });
}

process.on('message', (message: OpenMessage) => {
  if (message.open) {
    open(message.open).catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
  } else if (message.close) {
    for (const stream of streams) stream.destroy();
    process.send?.({ closed: streams.length });
    streams = [];
  }
});
process.send?.({ ready: true });
