import { databaseEnv, llmEnv, redisEnv, runtimeEnv } from './env-schemas';
import { ConfigError, loadConfig } from './load-config';
import { redactUrl } from './redact';

const schema = runtimeEnv.extend(databaseEnv.shape).extend(redisEnv.shape);

describe('loadConfig', () => {
  it('applies the documented defaults and freezes the result', () => {
    const config = loadConfig(schema, {});
    expect(config.DATABASE_URL).toBe('postgres://postgres@127.0.0.1:5432/quarry');
    expect(config.REDIS_PREFIX).toBe('quarry');
    expect(config.DATABASE_POOL_MAX).toBe(10);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('coerces numbers from strings', () => {
    expect(loadConfig(schema, { DATABASE_POOL_MAX: '25' }).DATABASE_POOL_MAX).toBe(25);
  });

  it('lists every invalid variable by name in one error', () => {
    const attempt = () => loadConfig(schema, { DATABASE_URL: 'mysql://x', DATABASE_POOL_MAX: '-1', LOG_LEVEL: 'loud' });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain('DATABASE_URL');
      expect(message).toContain('DATABASE_POOL_MAX');
      expect(message).toContain('LOG_LEVEL');
    }
  });

  it('treats blank optional strings as unset', () => {
    expect(loadConfig(llmEnv, { LLM_BASE_URL: '   ', LLM_MODEL: 'm' }).LLM_BASE_URL).toBeUndefined();
    expect(loadConfig(llmEnv, { LLM_MODEL: ' m ' }).LLM_MODEL).toBe('m');
  });
});

describe('redactUrl', () => {
  it('hides passwords', () => {
    expect(redactUrl('postgres://user:secret@db:5432/quarry')).toBe('postgres://user:***@db:5432/quarry');
  });
});
