import { ConfigError } from '@quarry/config';
import { loadGatewayConfig } from '../config';
import { httpTimeouts } from './http-timeouts';

const timeouts = { HTTP_REQUEST_TIMEOUT_MS: 600_000, HTTP_HEADERS_TIMEOUT_MS: 30_000, HTTP_IDLE_TIMEOUT_MS: 120_000, SSE_HEARTBEAT_MS: 15_000, REQUEST_TIMEOUT_MS: 30_000 };

describe('limits settings', () => {
  it('defaults to generous but finite limits', () => {
    const config = loadGatewayConfig({});
    expect({
      perMinute: config.RATE_LIMIT_PER_MINUTE,
      burst: config.RATE_LIMIT_BURST,
      documents: config.TENANT_MAX_DOCUMENTS,
      bytes: config.TENANT_MAX_STORED_BYTES,
      streams: config.SSE_MAX_STREAMS_PER_KEY,
      cors: config.CORS_ORIGINS,
    }).toEqual({ perMinute: 1200, burst: 100, documents: 100_000, bytes: 20 * 1024 ** 3, streams: 100, cors: [] });
  });

  it('reads CORS_ORIGINS as a list of origins, and refuses anything that is not one', () => {
    expect(loadGatewayConfig({ CORS_ORIGINS: ' https://App.example.com , http://localhost:5173/,' }).CORS_ORIGINS).toEqual(['https://app.example.com', 'http://localhost:5173']);
    expect(loadGatewayConfig({ CORS_ORIGINS: '*' }).CORS_ORIGINS).toEqual(['*']);
    for (const bad of ['app.example.com', 'https://app.example.com/path', 'ftp://files.example.com', 'https://user@app.example.com']) {
      expect(() => loadGatewayConfig({ CORS_ORIGINS: bad })).toThrow(/CORS_ORIGINS: .* is not an origin/);
    }
  });

  it('refuses negative limits', () => {
    expect(() => loadGatewayConfig({ RATE_LIMIT_PER_MINUTE: '-1' })).toThrow(/RATE_LIMIT_PER_MINUTE/);
    expect(() => loadGatewayConfig({ TENANT_MAX_STORED_BYTES: '-5' })).toThrow(/TENANT_MAX_STORED_BYTES/);
  });

  it('passes the timeouts to Fastify and Node, checking expiry often enough for them to fire on time', () => {
    expect(httpTimeouts(timeouts)).toEqual({
      requestTimeout: 600_000,
      connectionTimeout: 120_000,
      http: { headersTimeout: 30_000, requestTimeout: 600_000, connectionsCheckingInterval: 7500 },
    });
    expect(httpTimeouts({ ...timeouts, HTTP_REQUEST_TIMEOUT_MS: 0, HTTP_IDLE_TIMEOUT_MS: 0 })).toMatchObject({ requestTimeout: 0, connectionTimeout: 0 });
  });

  it('refuses timeouts that would cut progress streams or slow answers, or that Node would reject', () => {
    const refuse = (overrides: Partial<typeof timeouts>, pattern: RegExp) => {
      expect(() => httpTimeouts({ ...timeouts, ...overrides })).toThrow(ConfigError);
      expect(() => httpTimeouts({ ...timeouts, ...overrides })).toThrow(pattern);
    };
    refuse({ HTTP_HEADERS_TIMEOUT_MS: 700_000 }, /HTTP_HEADERS_TIMEOUT_MS \(700000\) must not exceed HTTP_REQUEST_TIMEOUT_MS/);
    refuse({ HTTP_IDLE_TIMEOUT_MS: 10_000 }, /HTTP_IDLE_TIMEOUT_MS \(10000\) must exceed SSE_HEARTBEAT_MS/);
    refuse({ HTTP_IDLE_TIMEOUT_MS: 20_000 }, /must exceed REQUEST_TIMEOUT_MS/);
  });
});
