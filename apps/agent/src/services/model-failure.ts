import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { LlmEndpointError } from '@quarry/llm';

/**
 * What a client is told when the model endpoint failed: that it failed, in which call, and the HTTP
 * status it answered — never the endpoint's own text (an upstream error body can carry anything:
 * internal hosts, paths, an echoed key) nor its address, which is the operator's business. The
 * agent logs the full error under the request's correlation id.
 */
export function modelFailure(error: LlmEndpointError): DomainError {
  const how = error.status === undefined ? 'did not answer (unreachable or timed out)' : `answered HTTP ${error.status}`;
  return new DomainError(
    ErrorCode.UpstreamModelError,
    `the model endpoint ${how} during ${error.operation ?? 'a model call'}; the agent's log has the details under the correlation id`,
  );
}
