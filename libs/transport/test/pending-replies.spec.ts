import { EventEmitter } from 'node:events';
import { ErrorCode, QueueName } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import type { QueueEvents } from 'bullmq';
import { type ConsumerPresence, PendingReplies, type QueueRegistry } from '../src';

/** A stand-in for the registry and presence: job states and consumers the test sets, and the calls counted. */
function fakes() {
  const states = new Map<string, string>();
  const calls = { presence: 0, states: 0 };
  let alive = true;
  let redisDown = false;
  const queues = {
    queue: () => ({
      getJobState: (jobId: string) => {
        calls.states++;
        return redisDown ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve(states.get(jobId) ?? 'active');
      },
    }),
  } as unknown as QueueRegistry;
  const presence = {
    hasConsumers: () => {
      calls.presence++;
      return redisDown ? Promise.reject(new Error('Connection is closed.')) : Promise.resolve(alive);
    },
  } as unknown as ConsumerPresence;
  const failure = (what: string) => () => new DomainError(ErrorCode.ServiceUnavailable, what);
  const replies = new PendingReplies({
    queues,
    presence,
    pollMs: 50,
    brokerCall: (call) => call(),
    failures: { timedOut: failure('timed out'), unavailable: failure('no consumer'), lost: failure('lost'), closed: failure('closed') },
  });
  const events = new EventEmitter();
  replies.listen(QueueName.Retrieval, events as unknown as QueueEvents);
  return {
    replies,
    events,
    states,
    calls,
    setAlive: (value: boolean) => (alive = value),
    setRedisDown: (value: boolean) => (redisDown = value),
  };
}

const completed = (events: EventEmitter, jobId: string, returnvalue: unknown) => events.emit('completed', { jobId, returnvalue }, '1-0');

describe('PendingReplies: the shared wait of every request in flight', () => {
  it('settles many waiters from one listener per event, without per-job listeners', async () => {
    const { replies, events } = fakes();
    const waits = Array.from({ length: 100 }, (_, index) => replies.wait(QueueName.Retrieval, String(index), 5000));
    expect(replies.size).toBe(100);
    expect(events.listenerCount('completed')).toBe(1);
    expect(events.listenerCount('failed')).toBe(1);
    expect(events.eventNames().sort()).toEqual(['completed', 'failed']);
    for (let index = 0; index < 100; index++) completed(events, String(index), { n: index });
    await expect(Promise.all(waits)).resolves.toEqual(Array.from({ length: 100 }, (_, index) => ({ n: index })));
    expect(replies.size).toBe(0);
    // Listening twice on the same handle adds nothing.
    replies.listen(QueueName.Retrieval, events as unknown as QueueEvents);
    expect(events.listenerCount('completed')).toBe(1);
  });

  it('finds a reply whose event was read before its waiter was registered, and relays a failure as its domain error', async () => {
    const { replies, events } = fakes();
    completed(events, '7', { early: true });
    await expect(replies.wait(QueueName.Retrieval, '7', 5000)).resolves.toEqual({ early: true });
    const failing = replies.wait(QueueName.Retrieval, '8', 5000);
    events.emit('failed', { jobId: '8', failedReason: 'NOT_FOUND: no such thing' }, '2-0');
    await expect(failing).rejects.toMatchObject({ code: ErrorCode.NotFound, message: 'no such thing' });
  });

  it('times every waiter out at its own deadline', async () => {
    const { replies } = fakes();
    const started = Date.now();
    const short = replies.wait(QueueName.Retrieval, '1', 120).catch((error: unknown) => ({ error, after: Date.now() - started }));
    const long = replies.wait(QueueName.Retrieval, '2', 400).catch((error: unknown) => ({ error, after: Date.now() - started }));
    const [first, second] = (await Promise.all([short, long])) as Array<{ error: DomainError; after: number }>;
    expect(first.error.message).toBe('timed out');
    expect(first.after).toBeGreaterThanOrEqual(115);
    expect(first.after).toBeLessThan(300);
    expect(second.after).toBeGreaterThanOrEqual(395);
    expect(second.after).toBeLessThan(700);
  });

  it('looks at the consumers once per queue and poll, however many wait, and at the jobs only once they have waited a poll', async () => {
    const { replies, calls, events } = fakes();
    const waits = Array.from({ length: 40 }, (_, index) => replies.wait(QueueName.Retrieval, String(index), 5000));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(calls).toEqual({ presence: 0, states: 0 });
    await new Promise((resolve) => setTimeout(resolve, 150));
    // About three polls: one presence call each, and the (old enough) jobs' states.
    expect(calls.presence).toBeGreaterThanOrEqual(2);
    expect(calls.presence).toBeLessThanOrEqual(4);
    expect(calls.states).toBeLessThanOrEqual(40 * calls.presence);
    for (let index = 0; index < 40; index++) completed(events, String(index), index);
    await Promise.all(waits);
    const after = { ...calls };
    await new Promise((resolve) => setTimeout(resolve, 150));
    // Nobody waits: the watchdog is off.
    expect(calls).toEqual(after);
  });

  it('fails the waiters of a queue nobody consumes any more, a vanished job, and all of them when Redis stops answering', async () => {
    const { replies, states, setAlive, setRedisDown } = fakes();
    states.set('gone', 'unknown');
    const gone = replies.wait(QueueName.Retrieval, 'gone', 5000);
    await expect(gone).rejects.toMatchObject({ message: 'lost' });

    setAlive(false);
    const orphaned = replies.wait(QueueName.Retrieval, 'orphan', 5000);
    await expect(orphaned).rejects.toMatchObject({ message: 'no consumer' });

    setAlive(true);
    setRedisDown(true);
    const started = Date.now();
    const stranded = replies.wait(QueueName.Retrieval, 'stranded', 5000);
    await expect(stranded).rejects.toMatchObject({ code: ErrorCode.ServiceUnavailable, message: 'the queue broker (Redis) is unavailable; retry shortly' });
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('fails every waiter when the client closes', async () => {
    const { replies } = fakes();
    const waiting = replies.wait(QueueName.Retrieval, '1', 5000);
    replies.close();
    await expect(waiting).rejects.toMatchObject({ message: 'closed' });
    await expect(replies.wait(QueueName.Retrieval, '2', 5000)).rejects.toMatchObject({ message: 'closed' });
  });
});
