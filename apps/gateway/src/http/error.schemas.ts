import { ErrorCode } from '@quarry/contracts';
import { z } from 'zod';

/** The codes a client can see: a TIMEOUT is answered as SERVICE_UNAVAILABLE (what timed out was a dependency). */
export const PUBLIC_ERROR_CODES: readonly ErrorCode[] = Object.values(ErrorCode).filter((code) => code !== ErrorCode.Timeout);

/** The one shape of every error the gateway answers, the framework's own included. */
export const ErrorBody = z
  .object({
    error: z.object({
      code: z.enum(PUBLIC_ERROR_CODES).meta({ description: 'Stable and machine-readable; the HTTP status follows from it.' }),
      message: z.string().meta({ description: 'What went wrong, for a person; never internal or driver text.' }),
      correlationId: z.string().optional().meta({ description: 'Also in the `x-correlation-id` header; quote it when reporting a problem: the logs carry it.' }),
    }),
  })
  .meta({
    description: 'Every error, whatever the route or status.',
    examples: [{ error: { code: 'NOT_FOUND', message: 'document 3f1c2a9e-5b7d-4e8f-9a0b-1c2d3e4f5a6b not found', correlationId: 'c0ffee00-1234-4abc-8def-0123456789ab' } }],
  });
export type ErrorBody = z.output<typeof ErrorBody>;
