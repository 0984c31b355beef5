import { z } from 'zod';
import { Citation } from './agent.contract';

// What the agent publishes while it answers a question asked with `stream: { id }`, on the Redis
// channel `answerStreamChannel(prefix, id)`, in order. The answer itself (with everything the
// reply holds) still comes back as the job's reply; `end` says nothing more will be published.
// A gateway that wants the work stopped (its client went away) publishes on the cancel channel.

export const AnswerStreamEvent = z.discriminatedUnion('type', [
  /** A graph node started or finished. */
  z.object({ type: z.literal('step'), node: z.string(), phase: z.enum(['start', 'end']), durationMs: z.number().min(0).optional() }),
  /** The passages the answer will draw on, numbered as it cites them. */
  z.object({ type: z.literal('sources'), sources: z.array(Citation) }),
  /** The next piece of the answer's text. */
  z.object({ type: z.literal('token'), delta: z.string() }),
  /** A passage the answer cites, once its text is complete. */
  z.object({ type: z.literal('citation'), citation: Citation }),
  /** The last event of the stream (the reply follows on the queue). */
  z.object({ type: z.literal('end') }),
]);
export type AnswerStreamEvent = z.infer<typeof AnswerStreamEvent>;

/** The channel the agent publishes a stream's events on. */
export const answerStreamChannel = (prefix: string, streamId: string) => `${prefix}answer-stream:${streamId}`;
/** The channel a gateway publishes on to cancel the answer of a stream. */
export const answerCancelChannel = (prefix: string, streamId: string) => `${prefix}answer-cancel:${streamId}`;
