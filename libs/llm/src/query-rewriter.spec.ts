import { lastUserMessage, startFakeOpenAiServer, type FakeOpenAiServer } from '@quarry/testing';
import { LlmEndpointError } from './endpoint-error';
import { OpenAiQueryRewriter, QUERY_REWRITE_SYSTEM_PROMPT, parseRephrasings } from './query-rewriter';

describe('parseRephrasings', () => {
  it('strips list markers and quotes, and drops blanks, repeats and copies of the question', () => {
    const content = '1. "Automobile maintenance schedule"\n\n- car upkeep\n* Vehicle servicing intervals\n2) automobile  maintenance schedule!\nHow often to service a car';
    expect(parseRephrasings(content, 'Car upkeep?', 3)).toEqual(['Automobile maintenance schedule', 'Vehicle servicing intervals', 'How often to service a car']);
    expect(parseRephrasings(content, 'Car upkeep?', 1)).toEqual(['Automobile maintenance schedule']);
    expect(parseRephrasings('', 'anything', 2)).toEqual([]);
  });
});

describe('OpenAiQueryRewriter against an OpenAI-compatible server', () => {
  let server: FakeOpenAiServer;

  afterEach(async () => {
    await server.close();
  });

  it('asks the chat model for the rephrasings and returns its lines', async () => {
    server = await startFakeOpenAiServer({ reply: 'automobile maintenance\nvehicle servicing\nextra line' });
    const rewriter = new OpenAiQueryRewriter({ baseUrl: server.baseUrl, model: 'fake-chat', maxRetries: 0 });
    expect(await rewriter.rephrase('car upkeep', 2)).toEqual(['automobile maintenance', 'vehicle servicing']);
    const [request] = server.requests;
    expect(request.body.model).toBe('fake-chat');
    expect(JSON.stringify(request.body.messages)).toContain(QUERY_REWRITE_SYSTEM_PROMPT);
    expect(lastUserMessage(request.body)).toBe('car upkeep');
  });

  it('reports an unreachable or failing endpoint as an LlmEndpointError naming it', async () => {
    server = await startFakeOpenAiServer({ failure: { status: 500, message: 'model crashed' } });
    const rewriter = new OpenAiQueryRewriter({ baseUrl: server.baseUrl, model: 'fake-chat', maxRetries: 0 });
    const failure = await rewriter.rephrase('car upkeep', 2).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(LlmEndpointError);
    expect((failure as Error).message).toContain(server.baseUrl);
  });
});
