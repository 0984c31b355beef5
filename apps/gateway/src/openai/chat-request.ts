import { AnswerQuestionRequest, ErrorCode, HistoryMessage } from '@quarry/contracts';
import type { z } from 'zod';
import { DomainError } from '@quarry/domain';
import { parseBody } from '../http/parse-body';
import type { AskedQuestion } from '../query/query-answers';
import { SOURCES_HEADING } from './chat-completion';
import { type ChatMessage, ChatCompletionBody, QUARRY_MODEL } from './openai.schemas';

/** The most history the agent takes (its contract's cap); older turns are dropped first. */
const MAX_HISTORY = 100;
const MAX_HISTORY_CHARS = 32_000;

export interface ChatRequest {
  asked: AskedQuestion;
  stream: boolean;
  includeUsage: boolean;
}

const invalid = (message: string) => new DomainError(ErrorCode.InvalidPayload, message);
const reasons = (error: z.ZodError) => error.issues.map((issue) => issue.message).join('; ');

/** A message's text: a string, or its text parts joined (other parts are refused). */
function textOf(message: ChatMessage, index: number): string {
  const { content } = message;
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  return content
    .map((part, partIndex) => {
      if (part.type !== 'text' || typeof part.text !== 'string') {
        throw invalid(`messages[${index}].content[${partIndex}]: only text parts are supported, not "${part.type}"`);
      }
      return part.text;
    })
    .join('');
}

/**
 * An assistant message as history: without the "Sources:" list this API appended to it, which is
 * a list of file names and snippets, not something the assistant said.
 */
export function withoutSourcesList(text: string): string {
  const at = text.lastIndexOf(`\n\n${SOURCES_HEADING}\n`);
  return at >= 0 ? text.slice(0, at) : text;
}

/**
 * An OpenAI chat completion request as Quarry's question. The last message is the question and
 * must be the user's; earlier user and assistant messages are its history (oldest first, at most
 * 100, the newest kept). System and developer messages are ignored: answers come from the
 * tenant's documents, and an instruction there must not change how they are found or cited.
 * Parameters Quarry cannot honour are refused by name; the rest (temperature …) are ignored.
 */
export function parseChatRequest(body: unknown): ChatRequest {
  const request = parseBody(ChatCompletionBody, body);
  if (request.model !== QUARRY_MODEL) {
    throw new DomainError(ErrorCode.NotFound, `model "${request.model}" does not exist; the model is "${QUARRY_MODEL}" (GET /v1/models)`);
  }
  if (request.n !== undefined && request.n !== null && request.n !== 1) throw invalid('n: only one choice per request is supported (n=1)');
  if ((request.tools?.length ?? 0) > 0 || (request.functions?.length ?? 0) > 0) {
    throw invalid("tools: function calling is not supported; the answer comes from the tenant's documents");
  }
  if (request.tool_choice !== undefined && request.tool_choice !== null && request.tool_choice !== 'none' && request.tool_choice !== 'auto') {
    throw invalid('tool_choice: function calling is not supported');
  }
  if (request.response_format && request.response_format.type !== 'text') throw invalid(`response_format: only "text" is supported, not "${request.response_format.type}"`);
  if (request.logprobs === true) throw invalid('logprobs: not supported');

  const messages = request.messages;
  messages.forEach((message, index) => {
    if (message.role === 'tool' || message.role === 'function') throw invalid(`messages[${index}]: ${message.role} messages need function calling, which is not supported`);
  });
  const last = messages.length - 1;
  if (messages[last].role !== 'user') throw invalid(`messages[${last}]: the last message must be the user's question, not a ${messages[last].role} message`);

  const question = AnswerQuestionRequest.shape.question.safeParse(textOf(messages[last], last));
  if (!question.success) throw invalid(`messages[${last}].content: ${reasons(question.error)}`);

  const history: HistoryMessage[] = [];
  messages.slice(0, last).forEach((message, index) => {
    if (message.role !== 'user' && message.role !== 'assistant') return;
    const raw = textOf(message, index);
    const text = (message.role === 'assistant' ? withoutSourcesList(raw) : raw).trim().slice(0, MAX_HISTORY_CHARS);
    if (text === '') return;
    const parsed = HistoryMessage.safeParse({ role: message.role, content: text });
    if (!parsed.success) throw invalid(`messages[${index}].content: ${reasons(parsed.error)}`);
    history.push(parsed.data);
  });

  return {
    asked: { question: question.data, ...(history.length > 0 ? { history: history.slice(-MAX_HISTORY) } : {}) },
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
  };
}
