import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';

export interface UploadOutcome {
  documentId: string;
  jobId: string;
  status: string;
  duplicate: boolean;
}

export interface JobState {
  status: string;
  stage: string | null;
  progress: number;
  error: string | null;
}

export class ApiError extends Error {}

/** The few gateway calls the upload tool makes. */
export class QuarryApi {
  private readonly headers: Record<string, string>;

  /** `apiKey` goes as `Authorization: Bearer`; `tenant` as x-tenant-id (for a trusted-header gateway). */
  constructor(
    private readonly baseUrl: string,
    credentials: { apiKey?: string; tenant?: string } = {},
  ) {
    this.headers = {
      ...(credentials.apiKey ? { authorization: `Bearer ${credentials.apiKey}` } : {}),
      ...(credentials.tenant ? { 'x-tenant-id': credentials.tenant } : {}),
    };
  }

  async upload(path: string, placement: { tags: string[]; folder?: string }): Promise<UploadOutcome> {
    const form = new FormData();
    for (const tag of placement.tags) form.append('tags', tag);
    if (placement.folder) form.append('folder', placement.folder);
    form.append('file', new Blob([await readFile(path)]), basename(path));
    return this.call<UploadOutcome>('/api/documents', { method: 'POST', body: form });
  }

  job(jobId: string): Promise<JobState> {
    return this.call<JobState>(`/api/jobs/${encodeURIComponent(jobId)}`);
  }

  private async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, { ...init, headers: this.headers });
    } catch (error) {
      throw new ApiError(`cannot reach Quarry at ${this.baseUrl}: ${(error as Error).message}`);
    }
    const body = (await response.json().catch(() => ({}))) as T & { error?: { code: string; message: string } };
    if (!response.ok) throw new ApiError(body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
    return body;
  }
}
