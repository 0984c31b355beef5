import type { SampleDocument } from './scifact-sample';

/** Uploads the documents as Markdown files through POST /api/documents/batch, `batchSize` per request, `senders` requests at a time. */
export async function uploadInBatches(gatewayUrl: string, auth: Record<string, string>, documents: readonly SampleDocument[], batchSize: number, senders = 2): Promise<void> {
  let next = 0;
  const sender = async () => {
    while (next < documents.length) {
      const batch = documents.slice(next, (next += batchSize));
      const form = new FormData();
      for (const document of batch) form.append('file', new Blob([`# ${document.title}\n\n${document.text}\n`]), `${document.id}.md`);
      const response = await fetch(`${gatewayUrl}/api/documents/batch`, { method: 'POST', body: form, headers: auth });
      if (response.status !== 202) throw new Error(`batch upload failed: ${response.status} ${await response.text()}`);
    }
  };
  await Promise.all(Array.from({ length: senders }, sender));
}

/** How many of the caller's documents are indexed. */
export async function indexedCount(gatewayUrl: string, auth: Record<string, string>): Promise<number> {
  const response = await fetch(`${gatewayUrl}/api/documents?status=indexed&limit=1`, { headers: auth });
  return ((await response.json()) as { total: number }).total;
}
