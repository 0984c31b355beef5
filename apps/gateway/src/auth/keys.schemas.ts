import { safeShortText } from '@quarry/contracts';
import { API_KEY_ROLES } from '@quarry/domain';
import { z } from 'zod';

// The shapes of the key management routes (`/api/keys`, admin only, own tenant): what the
// controller validates and what it answers.

const EXAMPLE_ID = '7a6b5c4d-3e2f-4a1b-9c8d-7e6f5a4b3c2d';
const EXAMPLE_KEY = 'qk_live_4fJx9QeTz2LmW8pRk1NvB7sYh3CdGa0Ui6Ko';
const Timestamp = z.iso.datetime();

// ---- requests -------------------------------------------------------------------------------

export const ApiKeyRole = z.enum(API_KEY_ROLES).meta({
  description: '`read`: query, list, get, stream. `write`: also upload, delete, cancel. `admin`: also manage keys.',
});

export const ApiKeyId = z.uuid({ message: 'key id must be a UUID' }).meta({ description: 'The `id` of a key (from creating or listing keys).', examples: [EXAMPLE_ID] });

export const CreateApiKeyBody = z
  .object({
    name: safeShortText(z.string().trim().min(1, 'name must not be empty').max(100)).meta({ description: 'What the key is for (shown in listings).' }),
    role: ApiKeyRole,
    expiresAt: z.iso
      .datetime({ offset: true, message: 'expiresAt must be an ISO 8601 date-time' })
      .optional()
      .meta({ description: 'When the key stops working (absent: never). Must be in the future.' }),
  })
  .strict()
  .meta({ examples: [{ name: 'ci uploader', role: 'write', expiresAt: '2026-12-31T23:59:59Z' }] });

// ---- responses ------------------------------------------------------------------------------

export const ApiKeyView = z
  .object({
    id: z.uuid(),
    name: z.string(),
    role: ApiKeyRole,
    prefix: z.string().meta({ description: 'The first 12 characters of the key, to tell keys apart.' }),
    createdAt: Timestamp,
    expiresAt: Timestamp.nullable(),
    lastUsedAt: Timestamp.nullable().meta({ description: 'Recorded at most once a minute per gateway.' }),
    revokedAt: Timestamp.nullable(),
  })
  .meta({ description: 'A key of the tenant (never the secret).' });
export type ApiKeyView = z.output<typeof ApiKeyView>;

export const CreatedApiKey = ApiKeyView.extend({
  key: z.string().meta({ description: 'The secret: shown only in this answer. Send it as `Authorization: Bearer …` or `x-api-key`.' }),
}).meta({
  description: 'The new key, with its secret (the only time it is shown).',
  examples: [
    {
      id: EXAMPLE_ID,
      name: 'ci uploader',
      role: 'write',
      prefix: EXAMPLE_KEY.slice(0, 12),
      key: EXAMPLE_KEY,
      createdAt: '2025-01-15T09:30:00.000Z',
      expiresAt: '2026-12-31T23:59:59.000Z',
      lastUsedAt: null,
      revokedAt: null,
    },
  ],
});
export type CreatedApiKey = z.output<typeof CreatedApiKey>;

export const ApiKeyList = z.object({ items: z.array(ApiKeyView) }).meta({ description: 'The tenant\'s keys, newest first, revoked and expired ones included.' });
export type ApiKeyList = z.output<typeof ApiKeyList>;
