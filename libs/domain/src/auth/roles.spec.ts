import { API_KEY_ROLES, isApiKeyRole, roleAllows } from './roles';

describe('API key roles', () => {
  it('orders read < write < admin', () => {
    expect(API_KEY_ROLES).toEqual(['read', 'write', 'admin']);
    expect(roleAllows('read', 'read')).toBe(true);
    expect(roleAllows('read', 'write')).toBe(false);
    expect(roleAllows('write', 'read')).toBe(true);
    expect(roleAllows('write', 'admin')).toBe(false);
    expect(roleAllows('admin', 'write')).toBe(true);
  });

  it('recognises only the three roles', () => {
    expect(['read', 'write', 'admin'].every(isApiKeyRole)).toBe(true);
    expect(['Admin', 'owner', '', undefined, 2].some(isApiKeyRole)).toBe(false);
  });
});
