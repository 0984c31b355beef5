import type { DocumentRepository } from '@quarry/persistence';

/**
 * Aborts a step's signal as soon as its document stops being `processing` (cancelled, deleted),
 * so long work (parsing, embedding) really stops instead of finishing for nobody; or at once, with
 * `interrupt`, when the worker shuts down.
 */
export class CancellationWatch {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;

  constructor(documents: DocumentRepository, tenantId: string, documentId: string, intervalMs = 250) {
    this.timer = setInterval(() => {
      documents.statusOf(tenantId, documentId).then(
        (status) => {
          if (status !== 'processing') this.controller.abort(new Error(`document is ${status ?? 'deleted'}`));
        },
        () => undefined,
      );
    }, intervalMs);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  interrupt(reason: Error): void {
    this.controller.abort(reason);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
