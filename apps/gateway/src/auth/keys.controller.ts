import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { parseBody } from '../http/parse-body';
import { Tenant } from '../http/tenant.decorator';
import { ApiKeyId, type ApiKeyList, CreateApiKeyBody, type CreatedApiKey } from './keys.schemas';
import { KeysService } from './keys.service';
import { Auth, type RequestAuth } from './request-auth';
import { RequiresRole } from './requires-role.decorator';

/** The tenant's API keys, for its admins. Keys for other tenants are made with the CLI (`npm run keys`). */
@Controller('api/keys')
@RequiresRole('admin')
export class KeysController {
  constructor(private readonly keys: KeysService) {}

  /** A new key of the caller's tenant, at most the caller's role; its secret is in this answer only. */
  @Post()
  @HttpCode(201)
  create(@Auth() caller: RequestAuth, @Body() body: unknown): Promise<CreatedApiKey> {
    return this.keys.create(caller, parseBody(CreateApiKeyBody, body));
  }

  @Get()
  list(@Tenant() tenantId: string): Promise<ApiKeyList> {
    return this.keys.list(tenantId);
  }

  /** Revoked at once on every gateway (the key used for this request may revoke itself). */
  @Delete(':id')
  @HttpCode(204)
  async revoke(@Tenant() tenantId: string, @Param('id') id: string): Promise<void> {
    await this.keys.revoke(tenantId, parseBody(ApiKeyId, id));
  }
}
