import { Citation } from '@quarry/contracts';
import { z } from 'zod';

// The shapes of the conversation routes: what the controller validates and what it answers. The
// OpenAPI document (apps/gateway/src/openapi) is generated from these very objects.

const EXAMPLE_ID = '0b1c2d3e-4f5a-4b6c-9d7e-8f9a0b1c2d3e';

// ---- requests -------------------------------------------------------------------------------

export const ConversationId = z.uuid({ message: 'conversation id must be a UUID' }).meta({
  description: 'The id an answer returned (`conversationId`).',
  examples: [EXAMPLE_ID],
});

/** Paged like the documents list (limit/offset), so clients page both the same way. */
export const ListConversationsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).meta({ description: 'Page size.' }),
  offset: z.coerce.number().int().min(0).default(0).meta({ description: 'Conversations to skip (most recently active first).' }),
});

// ---- responses ------------------------------------------------------------------------------

const Timestamp = z.iso.datetime();

export const ConversationView = z
  .object({
    id: z.uuid(),
    title: z.string().meta({ description: 'The first question (up to 120 characters).' }),
    createdAt: Timestamp,
    updatedAt: Timestamp.meta({ description: 'When the last exchange was added.' }),
    messageCount: z.number().int().min(0).meta({ description: 'Questions and answers together (two per exchange).' }),
  })
  .meta({
    description: 'A conversation of the tenant.',
    examples: [{ id: EXAMPLE_ID, title: 'What is the vacation policy?', createdAt: '2025-01-15T09:30:00.000Z', updatedAt: '2025-01-15T09:31:10.000Z', messageCount: 4 }],
  });
export type ConversationView = z.output<typeof ConversationView>;

export const ConversationMessage = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  citations: z.array(Citation).meta({ description: 'The passages an answer cites (`[n]` in its content is `citations[n-1]`); empty for a question.' }),
  createdAt: Timestamp,
});

export const ConversationDetail = ConversationView.extend({
  messages: z.array(ConversationMessage).meta({ description: 'Oldest first: each question followed by its answer.' }),
}).meta({ description: 'A conversation with its messages.' });
export type ConversationDetail = z.output<typeof ConversationDetail>;

export const ConversationPage = z
  .object({ items: z.array(ConversationView), total: z.number().int().min(0), limit: z.number().int(), offset: z.number().int() })
  .meta({ description: "One page of the tenant's conversations, the most recently active first." });
export type ConversationPage = z.output<typeof ConversationPage>;
