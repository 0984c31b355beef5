import { realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { ErrorCode } from '@quarry/contracts';
import { DomainError } from '@quarry/domain';

/**
 * The folder of an eval.run dataset, which a client names relative to EVAL_DATA_DIR: confined to
 * that folder after every link is resolved, so neither `..` nor a symbolic link inside it reaches
 * anything else on the machine. Refusals name the dataset as given, never the folder behind it.
 */
export function resolveEvalDataset(root: string | undefined, dataset: string): string {
  if (!root) throw new DomainError(ErrorCode.InvalidPayload, 'BEIR datasets are not enabled on this deployment (EVAL_DATA_DIR is not set); give labelled questions instead');
  if (isAbsolute(dataset)) throw new DomainError(ErrorCode.InvalidPayload, `dataset "${dataset}" must be a path relative to EVAL_DATA_DIR`);
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    throw new Error('EVAL_DATA_DIR names a folder that does not exist on this task-scheduler');
  }
  const outside = () => new DomainError(ErrorCode.InvalidPayload, `dataset "${dataset}" is outside EVAL_DATA_DIR`);
  const candidate = resolve(realRoot, dataset);
  if (!within(realRoot, candidate)) throw outside();
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    throw new DomainError(ErrorCode.NotFound, `dataset "${dataset}" not found under EVAL_DATA_DIR`);
  }
  if (!within(realRoot, real)) throw outside();
  return real;
}

function within(root: string, path: string): boolean {
  const rest = relative(root, path);
  return rest !== '..' && !rest.startsWith(`..${sep}`) && !isAbsolute(rest);
}
