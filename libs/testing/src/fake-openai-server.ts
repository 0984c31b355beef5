import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A chat message as sent by the client; content may be a string or an array of text parts. */
export interface FakeChatMessage {
  role: string;
  content?: unknown;
}

/** The JSON body of a request, as parsed; fields the fake understands are typed. */
export interface FakeRequestBody {
  model?: string;
  messages?: FakeChatMessage[];
  stream?: boolean;
  temperature?: number;
  max_tokens?: number;
  input?: string | string[];
  dimensions?: number;
  encoding_format?: 'float' | 'base64';
  [field: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  /** Path relative to the server root, e.g. `/v1/chat/completions`. */
  path: string;
  headers: IncomingHttpHeaders;
  body: FakeRequestBody;
}

export type FakeEndpoint = 'chat' | 'embeddings';

/** What the assistant says; a function receives the chat request so replies can depend on the prompt. */
export type FakeChatReply = string | ((request: FakeRequestBody) => string);

export interface InjectedFailure {
  /** HTTP status to answer with, e.g. 500 or 401. */
  status: number;
  message?: string;
  /** Which endpoint fails; both when absent. */
  endpoint?: FakeEndpoint;
  /** How many requests fail before the server behaves again; every request when absent. */
  times?: number;
  /**
   * Whether the client may retry. By default the response says `x-should-retry: false` so failing
   * tests fail fast; when true it invites an immediate retry (`retry-after-ms: 1`).
   */
  retryable?: boolean;
}

export interface FakeOpenAiServerOptions {
  reply?: FakeChatReply;
  /** Pieces of the reply per SSE chunk when streaming; the reply is split at word boundaries. */
  wordsPerStreamChunk?: number;
  /**
   * Size of returned embeddings, like a model with a fixed output size. When absent the request's
   * `dimensions` is honoured, else 8.
   */
  embeddingDimensions?: number;
  /** Multiplies every embedding, to check that clients normalise what they receive; 1 by default. */
  embeddingScale?: number;
  failure?: InjectedFailure;
  /** Delay before answering any request, to exercise client timeouts and aborts. */
  delayMs?: number;
}

export interface FakeOpenAiServer {
  /** OpenAI-style base URL including `/v1`, ready for `new OpenAI({ baseURL })`. */
  readonly baseUrl: string;
  /** Every request received, oldest first. */
  readonly requests: RecordedRequest[];
  setReply(reply: FakeChatReply): void;
  /** Makes later requests fail; `undefined` makes the server healthy again. */
  setFailure(failure: InjectedFailure | undefined): void;
  setDelay(delayMs: number): void;
  close(): Promise<void>;
}

const DEFAULT_REPLY = 'This is a fake answer.';
const DEFAULT_EMBEDDING_DIMENSIONS = 8;

/**
 * A real HTTP server on 127.0.0.1 that speaks just enough of the OpenAI protocol for tests:
 * `POST /v1/chat/completions` (JSON, or SSE chunks ending with `data: [DONE]` when `stream: true`)
 * and `POST /v1/embeddings` (deterministic vectors derived from each input text). It records every
 * request, and can be scripted to reply with a given text or fail with a given status.
 */
export async function startFakeOpenAiServer(options: FakeOpenAiServerOptions = {}): Promise<FakeOpenAiServer> {
  const requests: RecordedRequest[] = [];
  let reply: FakeChatReply = options.reply ?? DEFAULT_REPLY;
  let failure: InjectedFailure | undefined = options.failure ? { ...options.failure } : undefined;
  let delayMs = options.delayMs ?? 0;
  let completionCounter = 0;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    const rawBody = await readBody(request);
    let body: FakeRequestBody;
    try {
      body = rawBody === '' ? {} : (JSON.parse(rawBody) as FakeRequestBody);
    } catch {
      sendError(response, 400, 'Request body is not valid JSON', 'invalid_request_error');
      return;
    }
    requests.push({ method: request.method ?? 'GET', path, headers: request.headers, body });
    if (delayMs > 0) await sleep(delayMs);
    if (request.socket.destroyed) return;

    const endpoint = endpointFor(request.method, path);
    if (!endpoint) {
      sendError(response, 404, `Unknown endpoint ${request.method ?? ''} ${path}`, 'invalid_request_error');
      return;
    }
    if (failure && (failure.endpoint === undefined || failure.endpoint === endpoint)) {
      const current = failure;
      if (current.times !== undefined && --current.times <= 0) failure = undefined;
      response.setHeader('x-should-retry', current.retryable ? 'true' : 'false');
      if (current.retryable) response.setHeader('retry-after-ms', '1');
      sendError(response, current.status, current.message ?? defaultFailureMessage(current.status), failureType(current.status));
      return;
    }
    switch (endpoint) {
      case 'chat': {
        const text = typeof reply === 'function' ? reply(body) : reply;
        const id = `chatcmpl-fake-${++completionCounter}`;
        if (body.stream === true) sendChatStream(response, id, body.model ?? 'fake-model', text, options.wordsPerStreamChunk ?? 1);
        else sendJson(response, 200, chatCompletion(id, body.model ?? 'fake-model', text));
        return;
      }
      case 'embeddings': {
        const dimensions = options.embeddingDimensions ?? body.dimensions ?? DEFAULT_EMBEDDING_DIMENSIONS;
        sendJson(response, 200, embeddingList(body, dimensions, options.embeddingScale ?? 1));
        return;
      }
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendError(response, 500, error instanceof Error ? error.message : String(error), 'server_error');
      else response.destroy();
    });
  });
  await listen(server);
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    setReply: (next) => (reply = next),
    setFailure: (next) => (failure = next ? { ...next } : undefined),
    setDelay: (next) => (delayMs = next),
    close: () => close(server),
  };
}

/** The text of the last user message of a chat request: what most scripted replies look at. */
export function lastUserMessage(body: FakeRequestBody): string {
  const message = [...(body.messages ?? [])].reverse().find((candidate) => candidate.role === 'user');
  return message ? messageText(message) : '';
}

export function messageText(message: FakeChatMessage): string {
  if (typeof message.content === 'string') return message.content;
  if (Array.isArray(message.content)) {
    return message.content
      .map((part: unknown) => (isTextPart(part) ? part.text : ''))
      .join('');
  }
  return '';
}

/** Deterministic unit vector for a text, so tests can predict what the fake returns. */
export function fakeEmbedding(text: string, dimensions: number): number[] {
  let state = hashText(text) || 1;
  const values = Array.from({ length: dimensions }, () => {
    // xorshift32: cheap, deterministic pseudo-random numbers seeded by the text.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0xffffffff - 0.5;
  });
  const norm = Math.sqrt(values.reduce((sum, value) => sum + value * value, 0)) || 1;
  return values.map((value) => value / norm);
}

function endpointFor(method: string | undefined, path: string): FakeEndpoint | undefined {
  if (method !== 'POST') return undefined;
  if (path === '/v1/chat/completions') return 'chat';
  if (path === '/v1/embeddings') return 'embeddings';
  return undefined;
}

function chatCompletion(id: string, model: string, text: string): object {
  return {
    id,
    object: 'chat.completion',
    created: nowInSeconds(),
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text, refusal: null }, logprobs: null, finish_reason: 'stop' }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

function sendChatStream(response: ServerResponse, id: string, model: string, text: string, wordsPerChunk: number): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const chunk = (delta: object, finishReason: string | null): string =>
    `data: ${JSON.stringify({
      id,
      object: 'chat.completion.chunk',
      created: nowInSeconds(),
      model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    })}\n\n`;
  response.write(chunk({ role: 'assistant', content: '' }, null));
  for (const piece of splitIntoPieces(text, wordsPerChunk)) response.write(chunk({ content: piece }, null));
  response.write(chunk({}, 'stop'));
  response.end('data: [DONE]\n\n');
}

/** Word-sized pieces that keep their whitespace, so the pieces concatenate back to the exact text. */
function splitIntoPieces(text: string, wordsPerPiece: number): string[] {
  const words = text.match(/\s*\S+/g) ?? [];
  const pieces: string[] = [];
  for (let start = 0; start < words.length; start += Math.max(1, wordsPerPiece)) {
    pieces.push(words.slice(start, start + Math.max(1, wordsPerPiece)).join(''));
  }
  const trailing = /\s+$/.exec(text)?.[0];
  if (trailing) pieces.push(trailing);
  return pieces;
}

function embeddingList(body: FakeRequestBody, dimensions: number, scale: number): object {
  const inputs = Array.isArray(body.input) ? body.input : [body.input ?? ''];
  return {
    object: 'list',
    model: body.model ?? 'fake-embedding-model',
    data: inputs.map((input, index) => {
      const vector = fakeEmbedding(String(input), dimensions).map((value) => value * scale);
      // The official client asks for base64 unless told otherwise, and decodes little-endian float32.
      const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    }),
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}

function sendJson(response: ServerResponse, status: number, payload: object): void {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(payload));
}

function sendError(response: ServerResponse, status: number, message: string, type: string): void {
  sendJson(response, status, { error: { message, type, param: null, code: null } });
}

function defaultFailureMessage(status: number): string {
  if (status === 401) return 'Incorrect API key provided.';
  if (status === 429) return 'Rate limit reached.';
  return 'The server had an error while processing your request.';
}

function failureType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 429) return 'rate_limit_exceeded';
  return status >= 500 ? 'server_error' : 'invalid_request_error';
}

function isTextPart(part: unknown): part is { text: string } {
  return typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string';
}

function hashText(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

function nowInSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  // Unref'd: a request the client already gave up on must not keep the test process alive.
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.close((error) => (error ? reject(error) : resolve()));
    // The client keeps connections alive; without this, close() would wait for them to time out.
    server.closeAllConnections();
  });
}
