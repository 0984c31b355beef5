import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatAnswerTable, refinePrecisionCheck } from './answer-report';
import { summarizeAnswers } from './answer-metrics';
import { runVariants } from './answer-runner';
import { type AnswerVariant, type AskOutcome, askGateway } from './ask-gateway';

const on: AnswerVariant = { name: 'on', body: {} };
const off: AnswerVariant = { name: 'off', body: { maxRefinements: 0 } };
const queries = Array.from({ length: 6 }, (_, index) => ({ id: `q${index}`, text: `question ${index}` }));
const answered = (queryId: string): AskOutcome => ({ ok: true, observation: { queryId, citedDocuments: ['d1'], latencyMs: 1 } });

describe('runVariants', () => {
  it('asks every query once per variant and alternates which variant goes first', async () => {
    const calls: string[] = [];
    const runs = await runVariants(
      queries,
      [on, off],
      (query, variant) => {
        calls.push(`${query.id}:${variant.name}`);
        return Promise.resolve(answered(query.id));
      },
      { concurrency: 1 },
    );
    expect(runs.map((run) => run.observations.length)).toEqual([6, 6]);
    expect(calls.slice(0, 4)).toEqual(['q0:on', 'q0:off', 'q1:off', 'q1:on']);
  });

  it('gives up a variant the gateway refuses from the start, and keeps later refusals as failures', async () => {
    const ask = (query: { id: string }, variant: AnswerVariant): Promise<AskOutcome> => {
      if (variant.name === 'off') return Promise.resolve({ ok: false, failure: { queryId: query.id, error: 'HTTP 400: unknown key maxRefinements' }, rejected: true });
      if (query.id === 'q3') return Promise.resolve({ ok: false, failure: { queryId: query.id, error: 'HTTP 400: too long' }, rejected: true });
      return Promise.resolve(answered(query.id));
    };
    const runs = await runVariants(queries, [on, off], ask, { concurrency: 2 });
    expect(runs[1].unsupported).toContain('maxRefinements');
    expect(runs[0].unsupported).toBeUndefined();
    expect(runs[0].failures).toEqual([{ queryId: 'q3', error: 'HTTP 400: too long' }]);
    expect(runs[0].observations).toHaveLength(5);
  });
});

describe('askGateway', () => {
  const documentId = randomUUID();
  let status = 200;
  let reply: unknown;
  let lastBody: unknown;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      lastBody = JSON.parse(body);
      response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
    });
  });
  let url: string;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const target = () => ({ url, apiKey: 'k', corpusIdOf: new Map([[documentId, 'c42']]), timeoutMs: 5000 });
  const citation = (id: string, filename: string) => ({ index: 1, documentId: id, chunkId: randomUUID(), filename, snippet: 's', score: 1, provenance: {} });
  const base = { answer: 'a [1]', generator: 'extractive', conversationId: randomUUID(), timings: { retrievalMs: 1, generationMs: 1, totalMs: 2 } };

  it('sends the variant’s fields and maps citations to corpus ids (by document id, else by filename)', async () => {
    status = 200;
    reply = { ...base, citations: [citation(documentId, 'c42.md'), citation(randomUUID(), 'c7.md')], route: 'complex', refinements: 1, evaluation: { groundedness: 0.8, coverage: 1, citationValidity: 1, overall: 0.9 } };
    const outcome = await askGateway(target(), { id: 'q1', text: 'why?' }, off);
    expect(lastBody).toEqual({ question: 'why?', maxRefinements: 0 });
    expect(outcome).toMatchObject({ ok: true, observation: { queryId: 'q1', citedDocuments: ['c42', 'c7'], route: 'complex', refinements: 1, groundedness: 0.8 } });
  });

  it('leaves the optional reply fields undefined when the agent does not send them', async () => {
    reply = { ...base, citations: [] };
    const outcome = await askGateway(target(), { id: 'q1', text: 'why?' }, on);
    expect(outcome).toMatchObject({ ok: true, observation: { citedDocuments: [], route: undefined, refinements: undefined, groundedness: undefined } });
  });

  it('marks a 400 as a refusal of the request and a malformed reply as a failure', async () => {
    status = 400;
    reply = { error: { code: 'VALIDATION', message: 'Unrecognized key: "maxRefinements"' } };
    expect(await askGateway(target(), { id: 'q1', text: 'why?' }, off)).toMatchObject({ ok: false, rejected: true });
    status = 200;
    reply = { answer: 1 };
    expect(await askGateway(target(), { id: 'q1', text: 'why?' }, on)).toMatchObject({ ok: false, rejected: false });
  });
});

describe('report', () => {
  it('prints n/a for absent figures and a refused variant, and checks precision with the loop against without', () => {
    const qrels = new Map([['q1', new Map([['d1', 1]])]]);
    const summary = summarizeAnswers([{ queryId: 'q1', citedDocuments: ['d1', 'd2'], latencyMs: 5 }], [], qrels);
    const table = formatAnswerTable([
      { name: 'on', summary },
      { name: 'off', summary: undefined, unsupported: 'HTTP 400' },
    ]);
    expect(table).toMatch(/citation precision \(macro\)\s+0\.5000\s+n\/a/);
    expect(table).toMatch(/groundedness \(mean\)\s+n\/a \(0 of 1 replies\)/);
    expect(refinePrecisionCheck(summary, undefined)).toContain('n/a');
    const better = summarizeAnswers([{ queryId: 'q1', citedDocuments: ['d1'], latencyMs: 5 }], [], qrels);
    expect(refinePrecisionCheck(summary, better)).toContain('LOWER');
    expect(refinePrecisionCheck(better, summary)).toContain('OK');
  });
});
