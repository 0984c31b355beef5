import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from '@quarry/observability';
import { ApiKeyRepository } from '@quarry/persistence';
import { LOGGER, SERVICE_CONFIG } from '@quarry/service-kit';
import type { GatewayConfig } from '../config';
import { writeSecretFile } from './key-file';

export const BOOTSTRAP_TENANT = 'default';

/**
 * Secure by default and still two commands: the first gateway to boot (in api-key mode) on a
 * database without any key creates an admin key for the `default` tenant, writes it to
 * AUTH_BOOTSTRAP_KEY_FILE (readable by the owner only) and logs it once. Gateways booting together
 * create one key between them (an advisory lock); once any key exists, nothing happens.
 */
@Injectable()
export class BootstrapKey implements OnApplicationBootstrap {
  constructor(
    private readonly keys: ApiKeyRepository,
    @Inject(SERVICE_CONFIG) private readonly config: Pick<GatewayConfig, 'AUTH_MODE' | 'AUTH_BOOTSTRAP_KEY_FILE'>,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.AUTH_MODE !== 'api-key') return;
    const issued = await this.keys.issueFirstKey({ tenantId: BOOTSTRAP_TENANT, name: 'bootstrap admin key', role: 'admin' });
    if (!issued) return;
    let file: string | undefined;
    try {
      file = await writeSecretFile(this.config.AUTH_BOOTSTRAP_KEY_FILE, `${issued.key}\n`);
    } catch (error) {
      this.logger.warn('could not write the bootstrap admin key to its file; copy it from the next line', {
        file: this.config.AUTH_BOOTSTRAP_KEY_FILE,
        error: (error as Error).message,
      });
    }
    // The one time the key is shown (the field name `key` is not one the logger redacts).
    this.logger.info(
      `created an admin API key for tenant "${BOOTSTRAP_TENANT}" (no key existed); it is shown only this once${file ? ` and stored in ${file} (readable by its owner only)` : ''}`,
      { key: issued.key, keyId: issued.record.id, tenant: BOOTSTRAP_TENANT, role: 'admin', file: file ?? null },
    );
  }
}
