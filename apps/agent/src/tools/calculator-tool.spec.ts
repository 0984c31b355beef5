import { z } from 'zod';
import { calculate, createCalculatorTool, formatNumber } from './calculator-tool';
import { ToolRegistry } from './tool-registry';

const context = () => ({ tenantId: 'acme', signal: new AbortController().signal });

describe('calculator tool', () => {
  const registry = new ToolRegistry([createCalculatorTool()]);

  it.each([
    ['(1450 - 1200) / 1200 * 100', {}, 20.833333333333336],
    ['revenue2023 - revenue2022', { revenue2023: 1450, revenue2022: 1200 }, 250],
    ['200 * 5%', {}, 10],
    ['10 % 3', {}, 1],
    ['2^10 + sqrt(16) - abs(-3)', {}, 1025],
    ['round(2 pi, 2)', {}, 6.28],
    ['mean(3, 4, 8) + max(1, 9) + min(2, 0)', {}, 14],
    ['-x', { x: 0 }, 0],
  ])('computes %s', async (expression, variables, expected) => {
    const result = await registry.call('calculator', { expression, variables }, context());
    expect(result.outcome).toBe('ok');
    expect(result.output).toEqual({ expression, result: expected });
    expect(result.summary).toBe(`${expression} = ${formatNumber(expected)}`);
  });

  it.each([
    ['1 / 0', /no finite value/],
    ['sqrt(-4)', /no real value/],
    ['1 +', /cannot read the expression/],
    ['x * 2', /unknown name "x"/],
    ['5 cm', /unknown name "cm"/],
    ['a = 5', /assignment is not allowed/],
    ['f(x) = x^2', /defining a function is not allowed/],
    ['import({}, {})', /function "import" is not allowed/],
    ['evaluate("1+1")', /function "evaluate" is not allowed/],
    ['createUnit("foo")', /function "createUnit" is not allowed/],
    ['parse("1")', /function "parse" is not allowed/],
    ['[1, 2]', /a list is not allowed/],
    ['1 < 2', /operator "<" is not allowed/],
    ['"abc"', /only numbers/],
    ['1; 2', /more than one expression/],
    ['cos.constructor', /property access is not allowed/],
    ['1 ? 2 : 3', /a condition is not allowed/],
  ])('refuses %s with a reason', async (expression, reason) => {
    const result = await registry.call('calculator', { expression }, context());
    expect(result.outcome).toBe('refused');
    expect(result.summary).toMatch(reason);
  });

  it('refuses over-long expressions and bad variables before running', async () => {
    expect((await registry.call('calculator', { expression: '1+'.repeat(300) + '1' }, context())).outcome).toBe('refused');
    expect((await registry.call('calculator', { expression: 'sqrt + 1', variables: { sqrt: 4 } }, context())).summary).toMatch(/function or constant name/);
    expect((await registry.call('calculator', { expression: 'x', variables: { 'x.y': 1 } }, context())).outcome).toBe('refused');
    expect(() => calculate('x', { x: Number.POSITIVE_INFINITY })).toThrow(/not a finite number/);
  });

  it('variables come from the given record only, never from the prototype', () => {
    expect(() => calculate('toString + 1', {})).toThrow(/unknown name "toString"/);
    expect(() => calculate('constructor', {})).toThrow(/unknown name/);
  });

  it('describes its input for function calling', () => {
    const [description] = registry.describe();
    expect(description.name).toBe('calculator');
    const schema = description.parameters as { properties: Record<string, { description?: string }>; required: string[] };
    expect(schema.required).toEqual(['expression']);
    expect(schema.properties.expression.description).toMatch(/arithmetic/);
    expect(schema.properties.variables.description).toMatch(/earlier steps/);
    expect(() => z.toJSONSchema(createCalculatorTool().output)).not.toThrow();
  });
});

describe('formatNumber', () => {
  it.each([
    [250, '250'],
    [20.833333333333336, '20.8333'],
    [0.1 + 0.2, '0.3'],
    [12.5, '12.5'],
    [-3.14159, '-3.1416'],
    [0.000123456, '0.0001235'],
    [1 / 3, '0.3333'],
    [-0, '0'],
    [-0.00001, '-0.00001'],
    [1e21, '1e+21'],
  ])('%p → %s', (value, text) => {
    expect(formatNumber(value)).toBe(text);
  });
});
