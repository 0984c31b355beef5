// Static checks of deploy/Dockerfile and .dockerignore. There is no Docker engine here, so the
// image is never built; these checks pin the properties the compose file and the Kubernetes
// manifests rely on (Node 24, non-root numeric user, production-only dependencies, exec-form CMD).
import * as fs from 'node:fs';
import { SERVICE_NAMES, entryPoint } from './deploy-facts';
import { readText, repoPath } from './deploy-test-support';

interface Instruction {
  keyword: string;
  args: string;
}

/** Dockerfile -> instructions, with comments dropped and `\` continuations joined. */
function parseDockerfile(text: string): Instruction[] {
  const joined = text
    .split('\n')
    .filter((line) => !/^\s*#/.test(line))
    .join('\n')
    .replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

const instructions = parseDockerfile(readText(repoPath('deploy', 'Dockerfile')));
const stageStarts = instructions.flatMap((ins, i) => (ins.keyword === 'FROM' ? [i] : []));
const finalStage = instructions.slice(stageStarts[stageStarts.length - 1]);
const args = Object.fromEntries(
  instructions
    .slice(0, stageStarts[0])
    .filter((i) => i.keyword === 'ARG' && i.args.includes('='))
    .map((i) => i.args.split('=') as [string, string]),
);
const resolve = (value: string): string => value.replace(/\$\{?(\w+)\}?/g, (_m, name: string) => args[name] ?? '');
const runs = instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);

describe('deploy/Dockerfile', () => {
  it('is multi-stage on a Node 24 slim image', () => {
    expect(stageStarts.length).toBeGreaterThanOrEqual(2);
    for (const i of stageStarts) expect(resolve(instructions[i].args.split(/\s+/)[0])).toMatch(/^node:24[.\w-]*-slim$/);
  });

  it('installs from the lockfile, builds, and prunes dev dependencies', () => {
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm run build\b/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm prune\b.*--omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /\bnpm install\b/.test(r))).toBe(false);
  });

  it('fails the build if any service entry point is missing', () => {
    const build = runs.find((r) => r.includes('npm run build')) ?? '';
    for (const s of SERVICE_NAMES) expect(build).toContain(`test -f ${entryPoint(s)}`);
  });

  it('the runtime stage runs as a numeric non-root user (so runAsNonRoot can verify it)', () => {
    const users = finalStage.filter((i) => i.keyword === 'USER').map((i) => i.args);
    expect(users).toHaveLength(1);
    expect(users[0]).toMatch(/^[1-9]\d*(:\d+)?$/);
  });

  it('the runtime stage copies build output, not the source tree', () => {
    const copies = finalStage.filter((i) => i.keyword === 'COPY').map((i) => i.args);
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) expect(c).toMatch(/^--from=build\s/);
    expect(finalStage.some((i) => i.keyword === 'ENV' && /NODE_ENV=production/.test(i.args))).toBe(true);
  });

  it('CMD is exec form (node is PID 1 and receives SIGTERM) and runs a service entry point', () => {
    const cmds = finalStage.filter((i) => i.keyword === 'CMD');
    expect(cmds).toHaveLength(1);
    const cmd = JSON.parse(cmds[0].args) as unknown;
    expect(Array.isArray(cmd)).toBe(true);
    expect(SERVICE_NAMES.map((s) => JSON.stringify(['node', entryPoint(s)]))).toContain(JSON.stringify(cmd));
    expect(finalStage.some((i) => i.keyword === 'ENTRYPOINT')).toBe(false);
  });
});

describe('.dockerignore', () => {
  const patterns = new Set(
    readText(repoPath('.dockerignore'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0 && !l.startsWith('#')),
  );

  it('keeps host dependencies, build output, secrets and git history out of the context', () => {
    for (const p of ['node_modules', 'dist', '.env', '.git']) expect(patterns).toContain(p);
  });

  it('does not exclude what the build needs', () => {
    for (const needed of ['package.json', 'package-lock.json', 'apps', 'libs', '.swcrc', 'tsconfig.base.json']) {
      expect(patterns).not.toContain(needed);
      expect(fs.existsSync(repoPath(needed))).toBe(true);
    }
  });
});
