import { SetMetadata } from '@nestjs/common';
import type { ApiKeyRole } from '@quarry/domain';

export const REQUIRED_ROLE = 'quarry:required-role';

/**
 * The lowest role that may call a route (or every route of a controller). Every /api route must
 * declare one: the gateway refuses to start otherwise (see RouteRoleCheck), so none is forgotten.
 */
export const RequiresRole = (role: ApiKeyRole) => SetMetadata(REQUIRED_ROLE, role);
