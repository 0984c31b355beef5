import { loadAgentConfig } from './config';

describe('agent configuration', () => {
  it('leaves multi-query retrieval off by default', () => {
    expect(loadAgentConfig({}).QUERY_VARIANTS).toBe(0);
  });

  it('refuses QUERY_VARIANTS without a chat model to write the rephrasings, naming the fix', () => {
    expect(() => loadAgentConfig({ QUERY_VARIANTS: '2' })).toThrow(/QUERY_VARIANTS: QUERY_VARIANTS needs a chat model: set LLM_BASE_URL and LLM_MODEL/);
    expect(() => loadAgentConfig({ QUERY_VARIANTS: '9', LLM_BASE_URL: 'http://llm:8080/v1', LLM_MODEL: 'm' })).toThrow(/QUERY_VARIANTS/);
    expect(loadAgentConfig({ QUERY_VARIANTS: '2', LLM_BASE_URL: 'http://llm:8080/v1', LLM_MODEL: 'm' }).QUERY_VARIANTS).toBe(2);
  });
});
