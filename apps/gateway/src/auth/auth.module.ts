import { Module } from '@nestjs/common';
import { APP_GUARD, DiscoveryModule } from '@nestjs/core';
import { ApiKeyRepository, type DataSource } from '@quarry/persistence';
import { DATA_SOURCE } from '@quarry/service-kit';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { AuthGuard } from './auth.guard';
import { BootstrapKey } from './bootstrap-key';
import { KeysController } from './keys.controller';
import { KeysService } from './keys.service';
import { RequestAuthenticator } from './request-authenticator';
import { RevocationBus } from './revocation-bus';
import { RouteRoleCheck } from './route-role-check';

/**
 * Authentication for the whole gateway: who a request is (RequestAuthenticator, run by the
 * onRequest hook configure-http installs), the global guard that checks each route's role, the key
 * cache and its revocation bus, the first-boot admin key, the boot-time check that every /api
 * route declares a role, and the key management routes.
 */
@Module({
  imports: [DiscoveryModule],
  controllers: [KeysController],
  providers: [
    { provide: ApiKeyRepository, useFactory: (dataSource: DataSource) => new ApiKeyRepository(dataSource), inject: [DATA_SOURCE] },
    ApiKeyAuthenticator,
    RequestAuthenticator,
    RevocationBus,
    BootstrapKey,
    RouteRoleCheck,
    KeysService,
    { provide: APP_GUARD, useClass: AuthGuard },
  ],
})
export class AuthModule {}
