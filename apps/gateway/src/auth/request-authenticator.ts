import { Inject, Injectable } from '@nestjs/common';
import { ErrorCode, TenantId } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';
import { SERVICE_CONFIG } from '@quarry/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayConfig } from '../config';
import { ApiKeyAuthenticator } from './api-key-authenticator';
import { presentedKey } from './presented-key';
import type { RequestAuth } from './request-auth';

/** The one answer to every key problem: it does not tell a prober which one it hit. */
export const UNAUTHENTICATED_MESSAGE = 'a valid API key is required (Authorization: Bearer … or x-api-key)';

type AuthConfig = Pick<GatewayConfig, 'AUTH_MODE' | 'AUTH_TRUSTED_HEADER' | 'AUTH_TRUSTED_ROLE'>;

/**
 * Who a request acts for. In `api-key` mode the key decides the tenant and the role (any tenant
 * header is ignored); in `trusted-header` mode an authenticating proxy in front of the gateway
 * names the tenant in AUTH_TRUSTED_HEADER and every request gets AUTH_TRUSTED_ROLE.
 */
@Injectable()
export class RequestAuthenticator {
  constructor(
    private readonly keys: ApiKeyAuthenticator,
    @Inject(SERVICE_CONFIG) private readonly config: AuthConfig,
  ) {}

  /** `page`: an operators' page a browser opens — the key may come as Basic password, and a refusal prompts for it. */
  async authenticate(request: FastifyRequest, reply: FastifyReply, page = false): Promise<RequestAuth> {
    return this.config.AUTH_MODE === 'api-key' ? this.fromKey(request, reply, page) : this.fromTrustedHeader(request);
  }

  private async fromKey(request: FastifyRequest, reply: FastifyReply, page: boolean): Promise<RequestAuth> {
    const key = presentedKey(request.headers, { basic: page });
    const identity = key === undefined ? undefined : await this.keys.authenticate(key);
    if (!identity) {
      void reply.header('www-authenticate', page ? 'Basic realm="Quarry admin", charset="UTF-8"' : 'Bearer');
      throw new DomainError(ErrorCode.Unauthenticated, UNAUTHENTICATED_MESSAGE);
    }
    return { tenantId: identity.tenantId, role: identity.role, keyId: identity.keyId, via: 'api-key' };
  }

  private fromTrustedHeader(request: FastifyRequest): RequestAuth {
    const name = this.config.AUTH_TRUSTED_HEADER;
    const header = request.headers[name];
    if (header === undefined) {
      throw new DomainError(ErrorCode.Unauthenticated, `the ${name} header is required (AUTH_MODE=trusted-header: the authenticating proxy sets it)`);
    }
    const parsed = TenantId.safeParse(header);
    if (!parsed.success) throw new DomainError(ErrorCode.InvalidPayload, `${name}: ${parsed.error.issues[0]?.message}`);
    return { tenantId: parsed.data, role: this.config.AUTH_TRUSTED_ROLE, keyId: null, via: 'trusted-header' };
  }
}
