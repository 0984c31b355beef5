import type { ServerOptions } from 'node:http';
import { ConfigError } from '@quarry/config';
import type { GatewayConfig } from '../config';

type TimeoutConfig = Pick<GatewayConfig, 'HTTP_REQUEST_TIMEOUT_MS' | 'HTTP_HEADERS_TIMEOUT_MS' | 'HTTP_IDLE_TIMEOUT_MS' | 'SSE_HEARTBEAT_MS' | 'REQUEST_TIMEOUT_MS'>;

/** Fastify's and Node's server options for how long a client may take. */
export interface HttpTimeouts {
  /** Node's requestTimeout (Fastify passes it through): the whole request, headers and body, must arrive within it. */
  requestTimeout: number;
  /** Fastify's connectionTimeout, i.e. socket.setTimeout: a connection idle (nothing read, nothing written) this long is closed. */
  connectionTimeout: number;
  http: Pick<ServerOptions, 'headersTimeout' | 'requestTimeout' | 'connectionsCheckingInterval'>;
}

/**
 * Timeouts against clients that hold connections open without finishing their request (slowloris,
 * stalled uploads). None of them cuts a long response: Node's requestTimeout and headersTimeout
 * cover *receiving* the request only (the clock stops once its body has arrived), so a progress
 * stream (GET /api/jobs/:id/events) may stay open for hours; the idle timeout is reset by every
 * byte either way, and the stream sends a heartbeat every SSE_HEARTBEAT_MS. Settings that would
 * cut streams or the answers the gateway waits for (up to REQUEST_TIMEOUT_MS) are refused at boot.
 */
export function httpTimeouts(config: TimeoutConfig): HttpTimeouts {
  const { HTTP_REQUEST_TIMEOUT_MS: request, HTTP_HEADERS_TIMEOUT_MS: headers, HTTP_IDLE_TIMEOUT_MS: idle } = config;
  const problems: string[] = [];
  if (request > 0 && headers > request) problems.push(`HTTP_HEADERS_TIMEOUT_MS (${headers}) must not exceed HTTP_REQUEST_TIMEOUT_MS (${request})`);
  if (idle > 0 && idle <= config.SSE_HEARTBEAT_MS) problems.push(`HTTP_IDLE_TIMEOUT_MS (${idle}) must exceed SSE_HEARTBEAT_MS (${config.SSE_HEARTBEAT_MS}), or every progress stream is cut`);
  if (idle > 0 && idle <= config.REQUEST_TIMEOUT_MS) {
    problems.push(`HTTP_IDLE_TIMEOUT_MS (${idle}) must exceed REQUEST_TIMEOUT_MS (${config.REQUEST_TIMEOUT_MS}), or a slow answer is cut before it is sent`);
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration (see the README's environment table):\n${problems.map((line) => `  ${line}`).join('\n')}`);
  // Node looks for expired requests on a timer (30 s by default), so a timeout fires up to that
  // much late; checking at a quarter of the shortest timeout keeps them within 25 %.
  const shortest = request > 0 ? Math.min(request, headers) : headers;
  const connectionsCheckingInterval = Math.min(30_000, Math.max(250, Math.floor(shortest / 4)));
  return { requestTimeout: request, connectionTimeout: idle, http: { headersTimeout: headers, requestTimeout: request, connectionsCheckingInterval } };
}
