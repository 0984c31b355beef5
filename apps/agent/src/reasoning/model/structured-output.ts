import type OpenAI from 'openai';
import { z } from 'zod';
import type { ChatModel, ModelCall } from './chat-model';

/**
 * The model's output did not match the schema, even after the one repair attempt. The caller falls
 * back on its local rules. `issues` are zod's, readable; the model's text is not kept in the
 * message (it may quote documents), only its length.
 */
export class InvalidModelOutputError extends Error {
  override readonly name = 'InvalidModelOutputError';

  constructor(
    readonly purpose: string,
    readonly issues: string,
    /** How many completions were tried: the first and the repair. */
    readonly attempts: number,
  ) {
    super(`the model's ${purpose} output was invalid after ${attempts} attempts: ${issues}`);
  }
}

export interface StructuredRequest<Schema extends z.ZodType> {
  schema: Schema;
  /** The schema's name for `response_format.json_schema.name` ([a-zA-Z0-9_-], ≤ 64 characters). */
  schemaName: string;
  /** The conversation; the schema and the JSON-only rule are appended to its system message. */
  messages: OpenAI.ChatCompletionMessageParam[];
  maxTokens: number;
}

/** Everything after the schema: what a reply is checked against (JSON, then zod). */
export type Checked<T> = { ok: true; value: T } | { ok: false; issues: string };

/**
 * Asks for a JSON object matching a zod schema: `response_format` json_schema (from
 * `z.toJSONSchema`) or json_object, the schema also in the system prompt, the reply validated by
 * zod. An invalid reply gets one repair: the model sees its reply and the validation errors and is
 * asked for the corrected object. A second invalid reply throws InvalidModelOutputError; endpoint
 * failures throw LlmEndpointError (from ChatModel), aborts their abort error.
 */
export async function completeStructured<Schema extends z.ZodType>(
  chat: ChatModel,
  request: StructuredRequest<Schema>,
  call: ModelCall,
  /** Checks beyond the schema (e.g. names that must exist); returns what is wrong, if anything. */
  refine: (value: z.output<Schema>) => string | undefined = () => undefined,
): Promise<z.output<Schema>> {
  const jsonSchema = z.toJSONSchema(request.schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const messages = withSchemaInSystemPrompt(request.messages, jsonSchema);
  const responseFormat: OpenAI.ChatCompletionCreateParams['response_format'] =
    chat.structuredOutput === 'json_schema'
      ? // strict: false — strict mode requires every property to be required, and optional fields are part of these schemas.
        { type: 'json_schema', json_schema: { name: request.schemaName, schema: jsonSchema, strict: false } }
      : { type: 'json_object' };

  const first = await chat.complete({ messages, response_format: responseFormat, max_tokens: request.maxTokens }, call);
  const firstText = first.choices[0]?.message.content ?? '';
  const checked = check(first, request.schema, refine);
  if (checked.ok) return checked.value;

  const repair: OpenAI.ChatCompletionMessageParam[] = [
    ...messages,
    { role: 'assistant', content: firstText },
    {
      role: 'user',
      content: `Your reply was not a valid JSON object for the schema: ${checked.issues}\nReply again with the corrected JSON object only, nothing else.`,
    },
  ];
  const second = await chat.complete({ messages: repair, response_format: responseFormat, max_tokens: request.maxTokens }, { ...call, purpose: `${call.purpose}:repair` });
  const rechecked = check(second, request.schema, refine);
  if (rechecked.ok) return rechecked.value;
  throw new InvalidModelOutputError(call.purpose, rechecked.issues, 2);
}

function check<Schema extends z.ZodType>(completion: OpenAI.ChatCompletion, schema: Schema, refine: (value: z.output<Schema>) => string | undefined): Checked<z.output<Schema>> {
  const choice = completion.choices[0];
  if (choice?.finish_reason === 'length') return { ok: false, issues: 'the reply was cut off at the token limit; reply with a shorter JSON object' };
  const parsed = parseJsonObject(choice?.message.content ?? '');
  if (!parsed.ok) return parsed;
  const validated = schema.safeParse(parsed.value);
  if (!validated.success) return { ok: false, issues: z.prettifyError(validated.error).replaceAll('\n', '; ') };
  const problem = refine(validated.data);
  return problem === undefined ? { ok: true, value: validated.data } : { ok: false, issues: problem };
}

/**
 * The reply's JSON object. Models in json_object mode still wrap it in code fences or a sentence
 * now and then: the text from the first `{` to the last `}` is what is parsed.
 */
export function parseJsonObject(text: string): Checked<unknown> {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) return { ok: false, issues: text.trim() === '' ? 'the reply was empty' : 'the reply contains no JSON object' };
  try {
    return { ok: true, value: JSON.parse(text.slice(start, end + 1)) };
  } catch (error) {
    return { ok: false, issues: `the reply is not valid JSON (${(error as Error).message})` };
  }
}

function withSchemaInSystemPrompt(messages: OpenAI.ChatCompletionMessageParam[], jsonSchema: Record<string, unknown>): OpenAI.ChatCompletionMessageParam[] {
  const rule = `Reply with one JSON object only (no prose, no code fences) that matches this JSON schema:\n${JSON.stringify(jsonSchema)}`;
  const [first, ...rest] = messages;
  if (first?.role === 'system' && typeof first.content === 'string') return [{ role: 'system', content: `${first.content}\n\n${rule}` }, ...rest];
  return [{ role: 'system', content: rule }, ...messages];
}
