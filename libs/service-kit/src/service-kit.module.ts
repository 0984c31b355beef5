import { type DynamicModule, Global, Module } from '@nestjs/common';
import type { BullMqServer } from '@quarry/transport';
import { DeepHealthController, deepHealthProviders } from './health';
import { BULLMQ_SERVER, OpsController } from './ops.controller';
import type { ServiceKit } from './service-kit';
import { DATA_SOURCE, JOB_CLIENT, LOGGER, METRICS, READINESS, SERVICE_CONFIG } from './tokens';

/** Makes the kit's shared resources injectable everywhere in a service, and mounts the ops routes. */
@Global()
@Module({})
export class ServiceKitModule {
  static forRoot(kit: ServiceKit, server: BullMqServer | null): DynamicModule {
    const providers = [
      { provide: SERVICE_CONFIG, useValue: kit.config },
      { provide: LOGGER, useValue: kit.logger },
      { provide: METRICS, useValue: kit.metrics },
      { provide: DATA_SOURCE, useValue: kit.dataSource },
      { provide: JOB_CLIENT, useValue: kit.jobs },
      { provide: READINESS, useValue: kit.readiness },
      { provide: BULLMQ_SERVER, useValue: server },
      ...deepHealthProviders(kit, server),
    ];
    return {
      module: ServiceKitModule,
      controllers: [OpsController, DeepHealthController],
      providers,
      exports: providers.map((provider) => provider.provide),
    };
  }
}
