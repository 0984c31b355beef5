import 'reflect-metadata';
import { Writable } from 'node:stream';
import { QueueName } from '@quarry/contracts';
import { type RunningService, runService } from '@quarry/service-kit';
import winston from 'winston';
import { AgentModule } from '../src/app.module';
import { type AgentConfig, loadAgentConfig } from '../src/config';

export interface StartedAgent {
  service: RunningService<AgentConfig>;
  /** The agent's JSON log lines from its start on, parsed. */
  logs: Array<Record<string, unknown>>;
}

/** The agent in-process, as apps/agent/src/main.ts starts it (the OS picks the port), its log kept in memory. */
export async function startAgent(env: Record<string, string>): Promise<StartedAgent> {
  const config = loadAgentConfig({ NODE_ENV: 'test', LOG_LEVEL: 'warn', HOST: '127.0.0.1', DATABASE_POOL_MAX: '4', SHUTDOWN_TIMEOUT_MS: '2000', ...env });
  const service = await runService({ name: 'agent', config, http: { port: 0, host: '127.0.0.1' }, queues: [QueueName.Agent], module: AgentModule });
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  // Warnings and errors from here on go to memory instead of the console.
  service.kit.logger.clear().add(new winston.transports.Stream({ stream: sink }));
  return { service, logs };
}
