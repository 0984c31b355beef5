import { all, create, type MathNode } from 'mathjs';
import { z } from 'zod';
import { type AgentTool, ToolInputError } from './agent-tool';

const MAX_EXPRESSION_LENGTH = 500;
const MAX_VARIABLES = 50;

/*
 * One mathjs instance for every call. `predictable` keeps results real numbers (sqrt(-4) is NaN,
 * not a Complex). The functions that reach beyond arithmetic are overridden as the mathjs security
 * guide advises, although the node allowlist below already refuses every call to them: a parsed
 * expression is checked node by node before it is evaluated, so only numbers, the caller's
 * variables, arithmetic operators and the functions listed here ever run.
 */
const math = create(all, { number: 'number', predictable: true });
const disabled = (name: string) => () => {
  throw new Error(`${name} is disabled`);
};
math.import(
  {
    import: disabled('import'),
    createUnit: disabled('createUnit'),
    reviver: disabled('reviver'),
    resolve: disabled('resolve'),
    simplify: disabled('simplify'),
    derivative: disabled('derivative'),
  },
  { override: true },
);

/** Operators as mathjs names them (`50%` is parsed as a division by 100). */
const OPERATORS = new Set(['add', 'subtract', 'multiply', 'divide', 'pow', 'mod', 'unaryMinus', 'unaryPlus']);
const FUNCTIONS = new Set(['abs', 'round', 'floor', 'ceil', 'sqrt', 'cbrt', 'exp', 'log', 'log10', 'log2', 'pow', 'min', 'max', 'sum', 'mean', 'median']);
const CONSTANTS = new Set(['pi', 'e']);
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

const input = z.object({
  expression: z
    .string()
    .trim()
    .min(1)
    .max(MAX_EXPRESSION_LENGTH)
    .describe(
      'An arithmetic expression: numbers, + - * / ^ %, parentheses, and abs, round, floor, ceil, sqrt, cbrt, exp, log, log10, log2, pow, min, max, sum, mean, median; pi and e. "12%" means 0.12; "%" between two numbers is the remainder. Example: "(1450 - 1200) / 1200 * 100".',
    ),
  variables: z
    .record(z.string().regex(VARIABLE_NAME), z.number().finite())
    .optional()
    .describe('Named figures the expression uses, e.g. found by earlier steps: {"revenue2023": 1450, "revenue2022": 1200} with the expression "revenue2023 - revenue2022".'),
});

const output = z.object({
  expression: z.string().describe('The expression as computed.'),
  result: z.number().describe('The value of the expression.'),
});

export type CalculatorInput = z.output<typeof input>;
export type CalculatorOutput = z.output<typeof output>;

/** Computes an arithmetic expression with mathjs: never eval, only arithmetic over numbers. */
export function createCalculatorTool(): AgentTool<typeof input, typeof output> {
  return {
    name: 'calculator',
    description:
      'Computes an arithmetic expression exactly, for any number in an answer that is derived rather than quoted: differences, sums, ratios, percentages, averages. Pass figures taken from documents either inline or as named variables. Returns the numeric result; refuses anything that is not arithmetic.',
    input,
    output,
    timeoutMs: 1000,
    run: ({ expression, variables = {} }) => Promise.resolve({ expression, result: calculate(expression, variables) }),
    summarize: ({ expression, result }) => `${expression} = ${formatNumber(result)}`,
  };
}

/** The value of `expression` with `variables` bound; a ToolInputError says why when there is none. */
export function calculate(expression: string, variables: Record<string, number> = {}): number {
  if (expression.length > MAX_EXPRESSION_LENGTH) throw new ToolInputError(`the expression is longer than ${MAX_EXPRESSION_LENGTH} characters`);
  const names = Object.keys(variables);
  if (names.length > MAX_VARIABLES) throw new ToolInputError(`at most ${MAX_VARIABLES} variables are allowed`);
  for (const name of names) {
    if (!VARIABLE_NAME.test(name)) throw new ToolInputError(`"${name}" is not a valid variable name`);
    if (FUNCTIONS.has(name) || CONSTANTS.has(name)) throw new ToolInputError(`"${name}" is a function or constant name and cannot be a variable`);
    if (!Number.isFinite(variables[name])) throw new ToolInputError(`variable "${name}" is not a finite number`);
  }
  let tree: MathNode;
  try {
    tree = math.parse(expression);
  } catch (error) {
    throw new ToolInputError(`cannot read the expression: ${(error as Error).message}`);
  }
  checkArithmetic(tree, new Set(names));
  let value: unknown;
  try {
    // A Map scope: mathjs reads only the keys it holds (no prototype lookups on a plain object).
    value = tree.compile().evaluate(new Map(Object.entries(variables)));
  } catch (error) {
    throw new ToolInputError(`cannot compute the expression: ${(error as Error).message}`);
  }
  if (typeof value !== 'number') throw new ToolInputError('the expression does not compute to a single number');
  if (Number.isNaN(value)) throw new ToolInputError('the expression has no real value (e.g. the square root of a negative number)');
  if (!Number.isFinite(value)) throw new ToolInputError('the expression has no finite value (e.g. a division by zero)');
  return Object.is(value, -0) ? 0 : value;
}

function checkArithmetic(tree: MathNode, variables: ReadonlySet<string>): void {
  tree.traverse((node, _path, parent) => {
    switch (node.type) {
      case 'ConstantNode':
        if (typeof (node as unknown as { value: unknown }).value !== 'number') throw new ToolInputError('only numbers are allowed as values');
        return;
      case 'ParenthesisNode':
        return;
      case 'OperatorNode': {
        const { fn, op } = node as unknown as { fn: string; op: string };
        if (!OPERATORS.has(fn)) throw new ToolInputError(`the operator "${op}" is not allowed: only + - * / ^ % are`);
        return;
      }
      case 'FunctionNode': {
        const fn = (node as unknown as { fn: MathNode }).fn;
        const name = fn.type === 'SymbolNode' ? (fn as unknown as { name: string }).name : '';
        if (!FUNCTIONS.has(name)) throw new ToolInputError(`the function "${name || fn.toString()}" is not allowed; allowed: ${[...FUNCTIONS].join(', ')}`);
        return;
      }
      case 'SymbolNode': {
        const { name } = node as unknown as { name: string };
        // A function's own name is a SymbolNode under its FunctionNode, checked there.
        if (parent?.type === 'FunctionNode' && (parent as unknown as { fn: MathNode }).fn === node) return;
        if (variables.has(name) || CONSTANTS.has(name)) return;
        throw new ToolInputError(`unknown name "${name}": pass its value in variables`);
      }
      default:
        throw new ToolInputError(`${describeNode(node.type)} is not allowed: only arithmetic is`);
    }
  });
}

function describeNode(type: string): string {
  const names: Record<string, string> = {
    AssignmentNode: 'assignment',
    FunctionAssignmentNode: 'defining a function',
    AccessorNode: 'property access',
    IndexNode: 'indexing',
    ArrayNode: 'a list',
    ObjectNode: 'an object',
    BlockNode: 'more than one expression',
    ConditionalNode: 'a condition',
    RangeNode: 'a range',
    RelationalNode: 'a comparison',
  };
  return names[type] ?? type;
}

/**
 * A number as an answer states it: integers as they are, other numbers to at most four decimals
 * (at least four significant digits below 1), trailing zeros and float noise dropped (0.1 + 0.2 is "0.3").
 */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return Object.is(n, -0) ? '0' : String(n);
  const rounded = Math.abs(n) >= 1 ? Number(n.toFixed(4)) : Number(n.toPrecision(4));
  return Object.is(rounded, -0) ? '0' : String(rounded);
}
