import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { QueueName } from '@quarry/contracts';
import { currentCorrelationId, newCorrelationId } from '@quarry/observability';
import type { ServiceKit } from '@quarry/service-kit';
import type { QueueRegistry } from '@quarry/transport';
import type { FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config';
import { requireOperator } from '../auth/operators';
import { errorBody } from '../http/error-reply';
import { publicErrorLogged } from '../http/public-error';
import { QUEUE_DASHBOARD_PATH } from './admin-paths';

/**
 * The queue dashboard (bull-board) at /admin/queues, over every Quarry queue. Authentication is
 * the gateway's (the onRequest hook that runs first; browsers send the key as Basic password);
 * this scope then lets through only operators (OPERATOR_TENANT's admin keys), because the
 * dashboard shows every tenant's jobs. `read-only` (the default) shows jobs and changes none.
 */
export async function registerQueueDashboard(app: NestFastifyApplication, kit: ServiceKit<GatewayConfig>): Promise<void> {
  const { QUEUE_DASHBOARD: mode, OPERATOR_TENANT: operators } = kit.config;
  if (mode === 'off') return;
  const queues = kit.jobs.proxy.unwrap<QueueRegistry>();
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: Object.values(QueueName).map((name) => new BullMQAdapter(queues.queue(name), { readOnlyMode: mode === 'read-only' })),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Quarry queues' } },
  });
  // bull-board answers its errors with their message and stack; the gateway's one mapping is used
  // instead (a 401 or 403 stays one, anything else says nothing and is logged).
  serverAdapter.setErrorHandler((error: unknown) => {
    const correlationId = currentCorrelationId() ?? newCorrelationId();
    const failure = publicErrorLogged(error, kit.logger, { correlationId });
    return { status: failure.status as 500, body: errorBody(failure, correlationId) };
  });
  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', (request, _reply, done) => {
      requireOperator(request.auth, operators, 'the queue dashboard');
      done();
    });
    await scope.register(serverAdapter.registerPlugin() as never, { prefix: QUEUE_DASHBOARD_PATH });
  });
}
