import { z } from 'zod';
import { ApiKeyList, ApiKeyView, CreatedApiKey } from '../auth/keys.schemas';
import { BatchUploadResult, DocumentDetail, DocumentPage, DocumentView, UploadResult } from '../documents/documents.schemas';
import { ErrorBody } from '../http/error.schemas';
import { JobStreamError, JobView } from '../jobs/jobs.schemas';
import { QueryReply } from '../query/query.schemas';
import { QueryTraceView } from '../queries/queries.schemas';
import { DeepHealthReport, LiveReply, ReadinessReport } from './ops.schemas';

/** The response shapes listed once under components.schemas (by these names) and referenced by the routes. */
export const COMPONENT_SCHEMAS = {
  DocumentView,
  DocumentDetail,
  DocumentPage,
  UploadResult,
  BatchUploadResult,
  JobView,
  JobStreamError,
  QueryReply,
  QueryTrace: QueryTraceView,
  ApiKeyView,
  CreatedApiKey,
  ApiKeyList,
  ErrorBody,
  LiveReply,
  ReadinessReport,
  DeepHealthReport,
} as const;

/** A zod registry of the component schemas: z.toJSONSchema turns it into components whose nested members are `$ref`s. */
export function componentRegistry(): z.core.$ZodRegistry<{ id: string }> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(COMPONENT_SCHEMAS)) registry.add(schema, { id });
  return registry;
}
