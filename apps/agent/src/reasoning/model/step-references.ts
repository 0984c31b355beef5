/**
 * `{{s1}}` in a step's input names an earlier step's result (the figure a search found, a
 * calculation's value): the convention the local and the model planner share, which the executor
 * resolves before the step runs.
 */
export const STEP_REFERENCE = /\{\{\s*([A-Za-z][\w-]{0,39})\s*\}\}/g;

/** The step ids an input refers to, in order of first mention, each once (strings searched at any depth). */
export function stepReferences(input: unknown): string[] {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') for (const match of value.matchAll(STEP_REFERENCE)) found.add(match[1]);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) Object.values(value).forEach(visit);
  };
  visit(input);
  return [...found];
}
