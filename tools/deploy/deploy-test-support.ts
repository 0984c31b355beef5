// Shared plumbing for the deployment specs: where files live, strict YAML loading, and JSON Schema
// validators built from the vendored upstream schemas in ../shared/data (offline, pinned copies;
// see each folder's SOURCES.md).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parseAllDocuments } from 'yaml';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
/** The shared data folder sits next to the repository checkout. */
export const SHARED_DATA = path.resolve(REPO_ROOT, '..', 'shared', 'data');

export const repoPath = (...parts: string[]): string => path.join(REPO_ROOT, ...parts);
export const readText = (file: string): string => fs.readFileSync(file, 'utf8');
export const rel = (file: string): string => path.relative(REPO_ROOT, file);

export type JsonObject = Record<string, unknown>;

export const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Recursively lists files under `dir` whose names end with one of `extensions`. */
export function listFiles(dir: string, extensions: readonly string[]): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(full, extensions));
    else if (extensions.some((ext) => entry.name.endsWith(ext))) out.push(full);
  }
  return out.sort();
}

export interface YamlDocument {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
}

/**
 * Parses every document of a YAML file. Parse errors and warnings (duplicate keys, bad escapes,
 * unresolved aliases) fail loudly instead of yielding a half-parsed value. `merge` enables `<<`
 * merge keys, which Compose supports but plain YAML 1.2 does not.
 */
export function loadYaml(file: string, options: { merge?: boolean } = {}): YamlDocument[] {
  return parseYaml(readText(file), rel(file), options).map((value, index) => ({ file, index, value }));
}

/** Same as loadYaml, for text that is not a file (e.g. a patch embedded in a kustomization). */
export function parseYaml(text: string, label: string, options: { merge?: boolean } = {}): unknown[] {
  // An empty text parses to an empty stream (an empty array), which callers then reject.
  const docs = parseAllDocuments(text, { merge: options.merge ?? false, prettyErrors: true });
  const out: unknown[] = [];
  docs.forEach((doc, index) => {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) throw new Error(`${label}#${index}: ${problems.map((p) => p.message).join('; ')}`);
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    // A trailing `---` or a comment-only document is empty; it is not a manifest.
    if (value !== null && value !== undefined) out.push(value);
  });
  return out;
}

/** Loads a file that must hold exactly one YAML document. */
export function loadSingleYaml(file: string, options: { merge?: boolean } = {}): unknown {
  const docs = loadYaml(file, options);
  if (docs.length !== 1) throw new Error(`${rel(file)}: expected one YAML document, found ${docs.length}`);
  return docs[0].value;
}

export const readJson = (file: string): unknown => JSON.parse(readText(file)) as unknown;

// ---- JSON Schema ------------------------------------------------------------------------------

type AjvInstance = Ajv | Ajv2019 | Ajv2020;

/** Converts draft-04 idioms to their draft-06+ form, in place (only what ajv 8 cannot read). */
function adaptDraft04(node: unknown, isRoot: boolean): void {
  if (Array.isArray(node)) {
    node.forEach((item) => adaptDraft04(item, false));
    return;
  }
  if (!isObject(node)) return;
  // draft-04 names the schema id `id`; at the root it can only be that (inside `properties` an
  // `id` key is a property name, so only the root is touched).
  if (isRoot && typeof node.id === 'string' && node.$id === undefined) {
    node.$id = node.id;
    delete node.id;
  }
  // draft-04: boolean exclusiveMinimum/Maximum modify minimum/maximum; draft-06+: they are numbers.
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof node[flag] === 'boolean') {
      if (node[flag] === true && typeof node[bound] === 'number') {
        node[flag] = node[bound];
        delete node[bound];
      } else {
        delete node[flag];
      }
    }
  }
  for (const value of Object.values(node)) adaptDraft04(value, false);
}

/**
 * Picks the ajv class for a schema's `$schema` and returns the schema ready to compile.
 *
 * `$schema` is removed after choosing the class: the Kubernetes schemas say
 * `http://json-schema.org/schema#` (no draft; their keywords are draft-04/07-compatible and contain
 * no boolean exclusive bounds) and the Compose spec says `https://json-schema.org/draft-07/schema`
 * (https), neither of which ajv has registered, and ajv refuses to compile a schema whose
 * meta-schema it does not know. ajv-draft-04 is not installed, so a draft-04 schema is adapted
 * (`id` -> `$id`, boolean exclusive bounds -> numeric) and validated in draft-07 mode.
 */
function prepareSchema(raw: JsonObject): { ajv: AjvInstance; schema: JsonObject } {
  const schema = structuredClone(raw);
  const dialect = typeof schema.$schema === 'string' ? schema.$schema : '';
  delete schema.$schema;
  // `strict: false`: the upstream schemas carry vendor keywords (x-kubernetes-*) and constructs
  // ajv's strict mode flags (union types, unknown formats in annotations) that are valid JSON Schema.
  const options = { strict: false, allErrors: true } as const;
  let ajv: AjvInstance;
  if (dialect.includes('2020-12')) ajv = new Ajv2020(options);
  else if (dialect.includes('2019-09')) ajv = new Ajv2019(options);
  else {
    if (dialect.includes('draft-04')) adaptDraft04(schema, true);
    ajv = new Ajv(options);
  }
  // date-time (Grafana, Kubernetes), int32/int64/byte (Kubernetes): validate them instead of
  // ignoring unknown formats.
  addFormats(ajv);
  return { ajv, schema };
}

const compiled = new Map<string, ValidateFunction>();

/** Compiles (once per test file) the schema at `file`. */
export function schemaValidator(file: string): ValidateFunction {
  const cached = compiled.get(file);
  if (cached) return cached;
  const raw = readJson(file);
  if (!isObject(raw)) throw new Error(`${file}: schema is not a JSON object`);
  const { ajv, schema } = prepareSchema(raw);
  const validate = ajv.compile(schema);
  compiled.set(file, validate);
  return validate;
}

/** Compiles an in-test schema (draft-07). */
export function inlineValidator(schema: JsonObject): ValidateFunction {
  const prepared = prepareSchema(schema);
  return prepared.ajv.compile(prepared.schema);
}

/** Human-readable ajv errors; `[]` when valid. */
export function validationErrors(validate: ValidateFunction, value: unknown): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map((e: ErrorObject) => `${e.instancePath || '/'} ${e.message ?? e.keyword} ${JSON.stringify(e.params)}`);
}

// ---- small parsers ---------------------------------------------------------------------------

/** Kubernetes resource quantity -> number (cores for CPU, bytes for memory). */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === 'number') return quantity;
  const match = /^([0-9.]+)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(quantity);
  if (!match) throw new Error(`unsupported quantity ${quantity}`);
  const factors: Record<string, number> = {
    '': 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40,
  };
  return Number(match[1]) * factors[match[2] ?? ''];
}

/** Compose / Go duration ("35s", "1m30s", "500ms") -> milliseconds. */
export function parseDurationMs(duration: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let rest = duration.trim();
  if (rest === '') throw new Error('empty duration');
  while (rest.length > 0) {
    const match = /^([0-9.]+)(ms|s|m|h)/.exec(rest);
    if (!match) throw new Error(`unsupported duration ${duration}`);
    total += Number(match[1]) * units[match[2]];
    rest = rest.slice(match[0].length);
  }
  return total;
}

/** nginx size ("50m", "1g", "512k", "1024") -> bytes. */
export function parseNginxSize(size: string): number {
  const match = /^([0-9]+)([kKmMgG]?)$/.exec(size);
  if (!match) throw new Error(`unsupported nginx size ${size}`);
  const factors: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };
  return Number(match[1]) * factors[match[2].toLowerCase()];
}

/** `KEY=value` lines of an env file (what `kubectl create secret --from-env-file` reads). */
export function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [index, line] of readText(file).split('\n').entries()) {
    if (line.trim() === '' || line.trimStart().startsWith('#')) continue;
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (!match) throw new Error(`${rel(file)}:${index + 1}: not KEY=value`);
    if (match[1] in out) throw new Error(`${rel(file)}:${index + 1}: ${match[1]} twice`);
    out[match[1]] = match[2];
  }
  return out;
}

/**
 * What `kubectl apply -k dir` would send: the real kustomize (kubectl's built-in), so components,
 * generators and patches are applied exactly as in a cluster. Returns the text and its objects.
 */
export function renderKustomize(dir: string): { text: string; objects: unknown[] } {
  let text: string;
  try {
    text = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message: string };
    throw new Error(`kubectl kustomize ${rel(dir)} failed (kubectl with kustomize is needed): ${stderr || message}`);
  }
  return { text, objects: parseYaml(text, `kubectl kustomize ${rel(dir)}`) };
}
