/**
 * `npm run deploy:env` — prints the variables each service reads, from the zod schemas its config
 * loader parses (the same derivation tools/deploy/env-drift.spec.ts checks docker-compose.yml and
 * k8s/ against), with the schema default, and whether Kubernetes must take it from the Secret.
 * `--json` prints `{ service: [names] }` instead.
 */
import { COMMON_ENV, CREDENTIAL_ENV, SECRET_NAME, SERVICE_NAMES, SERVICES, defaultOf, type ServiceName } from './deploy-facts';

function line(service: ServiceName, key: string): string {
  const source = CREDENTIAL_ENV.has(key) ? `  (k8s: secretKeyRef ${SECRET_NAME}/${key})` : '';
  return `  ${key}=${defaultOf(service, key) ?? '–'}${source}`;
}

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(Object.fromEntries(SERVICE_NAMES.map((s) => [s, [...COMMON_ENV, ...SERVICES[s].env].sort()])), null, 2));
} else {
  console.log(`# every service (${COMMON_ENV.length})`);
  for (const key of COMMON_ENV) console.log(line('gateway', key));
  for (const service of SERVICE_NAMES) {
    console.log(`\n# ${service} (${SERVICES[service].env.length} more)`);
    for (const key of SERVICES[service].env) console.log(line(service, key));
  }
}
