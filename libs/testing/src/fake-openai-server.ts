import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A chat message as sent by the client; content may be a string or an array of text parts. */
export interface FakeChatMessage {
  role: string;
  content?: unknown;
  /** An assistant message's function calls, as the client sends them back. */
  tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[];
  /** A `tool` message's answer to this call. */
  tool_call_id?: string;
}

/** A function the client offers the model (`tools` of the request). */
export interface FakeToolDefinition {
  type: string;
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
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
  tools?: FakeToolDefinition[];
  tool_choice?: unknown;
  response_format?: { type: string; json_schema?: { name?: string; schema?: Record<string, unknown>; strict?: boolean } };
  stream_options?: { include_usage?: boolean };
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

/** A function call the fake model makes; object arguments are sent as their JSON text. */
export interface FakeToolCall {
  name: string;
  arguments: string | Record<string, unknown>;
  /** `call_<n>` when absent. */
  id?: string;
}

/** A whole assistant turn: text, function calls, or both. */
export interface FakeAssistantReply {
  content?: string | null;
  toolCalls?: FakeToolCall[];
  /** `tool_calls` when there are calls, else `stop`; e.g. `length` to imitate a cut-off completion. */
  finishReason?: 'stop' | 'length' | 'tool_calls' | 'content_filter';
}

/**
 * What the assistant says; a function receives the whole chat request (messages, tools,
 * response_format …) so replies can depend on it. A string is the message's text.
 */
export type FakeChatReply = string | FakeAssistantReply | ((request: FakeRequestBody) => string | FakeAssistantReply);

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
 * request, and can be scripted to reply with a given text, with function calls, or fail with a
 * given status. Token usage counts words (prompt: every message, tool call and tool definition;
 * completion: the reply), and comes last in a stream when `stream_options.include_usage` asks.
 * Like OpenAI it refuses (400) a malformed `response_format`, `json_object` mode without the word
 * "JSON" in the messages, and a `tool_choice` naming a function it was not offered.
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
        const invalid = invalidChatRequest(body);
        if (invalid) {
          sendError(response, 400, invalid, 'invalid_request_error');
          return;
        }
        const turn = assistantTurn(typeof reply === 'function' ? reply(body) : reply);
        const id = `chatcmpl-fake-${++completionCounter}`;
        const usage = usageOf(body, turn);
        if (body.stream === true) {
          const includeUsage = body.stream_options?.include_usage === true;
          sendChatStream(response, id, body.model ?? 'fake-model', turn, options.wordsPerStreamChunk ?? 1, includeUsage ? usage : undefined);
        } else sendJson(response, 200, chatCompletion(id, body.model ?? 'fake-model', turn, usage));
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

/**
 * Every message's text with the quoted-data blocks (`<passage …>…</passage>`, `<tool-result …>…</tool-result>`,
 * `<data …>…</data>`) cut out, the way a naive reader finds where a block ends: at the first closing
 * tag. A fake model that "obeys" what this leaves shows whether a document could speak as the prompt.
 */
export function textOutsideQuotedData(body: FakeRequestBody): string {
  const all = (body.messages ?? []).map((message) => messageText(message)).join('\n');
  return all.replace(/<(passage|tool-result|data)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, '');
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

/** A scripted turn, normalised: the function calls get ids and JSON-text arguments. */
interface AssistantTurn {
  content: string | null;
  toolCalls: { id: string; name: string; arguments: string }[];
  finishReason: string;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

function assistantTurn(reply: string | FakeAssistantReply): AssistantTurn {
  if (typeof reply === 'string') return { content: reply, toolCalls: [], finishReason: 'stop' };
  const toolCalls = (reply.toolCalls ?? []).map((call, index) => ({
    id: call.id ?? `call_${index + 1}`,
    name: call.name,
    arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments),
  }));
  const content = reply.content ?? (toolCalls.length > 0 ? null : '');
  return { content, toolCalls, finishReason: reply.finishReason ?? (toolCalls.length > 0 ? 'tool_calls' : 'stop') };
}

/** What OpenAI itself refuses with a 400, so a client that sends it fails here too. */
function invalidChatRequest(body: FakeRequestBody): string | undefined {
  const format = body.response_format;
  if (format !== undefined) {
    if (!['text', 'json_object', 'json_schema'].includes(format.type)) return `Invalid value for 'response_format.type': '${format.type}'`;
    if (format.type === 'json_schema' && (typeof format.json_schema?.name !== 'string' || typeof format.json_schema.schema !== 'object')) {
      return "Missing required parameter: 'response_format.json_schema' needs a name and a schema";
    }
    if (format.type === 'json_object' && !(body.messages ?? []).some((message) => /json/i.test(messageText(message)))) {
      return "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'";
    }
  }
  const offered = new Set((body.tools ?? []).map((tool) => tool.function.name));
  const chosen = body.tool_choice as { function?: { name?: string } } | undefined;
  if (typeof chosen === 'object' && chosen?.function?.name !== undefined && !offered.has(chosen.function.name)) {
    return `Invalid 'tool_choice': no function named '${chosen.function.name}' was offered in 'tools'`;
  }
  return undefined;
}

/** Words as tokens: real-looking counts that tests can predict. */
export function countFakeTokens(text: string): number {
  return text.match(/\S+/g)?.length ?? 0;
}

function usageOf(body: FakeRequestBody, turn: AssistantTurn): Usage {
  const promptParts = (body.messages ?? []).flatMap((message) => [messageText(message), ...(message.tool_calls ?? []).map((call) => `${call.function.name} ${call.function.arguments}`)]);
  if (body.tools) promptParts.push(JSON.stringify(body.tools));
  const prompt_tokens = promptParts.reduce((sum, part) => sum + countFakeTokens(part), 0);
  const completion_tokens = countFakeTokens(turn.content ?? '') + turn.toolCalls.reduce((sum, call) => sum + countFakeTokens(`${call.name} ${call.arguments}`), 0);
  return { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens };
}

function chatCompletion(id: string, model: string, turn: AssistantTurn, usage: Usage): object {
  const message = {
    role: 'assistant',
    content: turn.content,
    refusal: null,
    ...(turn.toolCalls.length > 0 ? { tool_calls: turn.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })) } : {}),
  };
  return {
    id,
    object: 'chat.completion',
    created: nowInSeconds(),
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: turn.finishReason }],
    usage,
  };
}

function sendChatStream(response: ServerResponse, id: string, model: string, turn: AssistantTurn, wordsPerChunk: number, usage: Usage | undefined): void {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
  const event = (choices: object[], extra: object = {}): string =>
    `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: nowInSeconds(), model, choices, ...extra })}\n\n`;
  // With include_usage, OpenAI puts `usage: null` on every chunk and sends the counts last, in a chunk without choices.
  const usageField = usage ? { usage: null } : {};
  const write = (delta: object, finishReason: string | null) => response.write(event([{ index: 0, delta, logprobs: null, finish_reason: finishReason }], usageField));
  write({ role: 'assistant', content: turn.content === null ? null : '' }, null);
  for (const piece of splitIntoPieces(turn.content ?? '', wordsPerChunk)) write({ content: piece }, null);
  turn.toolCalls.forEach((call, index) => {
    // As OpenAI does: the first delta of a call names it, later ones carry pieces of its arguments.
    write({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }, null);
    for (const piece of splitArguments(call.arguments)) write({ tool_calls: [{ index, function: { arguments: piece } }] }, null);
  });
  write({}, turn.finishReason);
  if (usage) response.write(event([], { usage }));
  response.end('data: [DONE]\n\n');
}

/** JSON text in small pieces (a split inside a string or a number, as real servers do). */
function splitArguments(text: string): string[] {
  const pieces: string[] = [];
  for (let start = 0; start < text.length; start += 7) pieces.push(text.slice(start, start + 7));
  return pieces;
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
