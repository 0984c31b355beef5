import type { DataSource } from '@quarry/persistence';
import type { PoolClient } from 'pg';
import { z } from 'zod';
import { type AgentTool, type ToolContext, ToolInputError } from '../agent-tool';
import { describeViews, tenantScopedViews } from './allowed-views';
import { JSON_FRIENDLY_TYPES, jsonSafe, uniqueColumnNames } from './json-rows';
import { MAX_SQL_LENGTH, checkSelect } from './sql-guard';

export interface DatabaseToolOptions {
  /** The longest one query may run (SET LOCAL statement_timeout). */
  statementTimeoutMs?: number;
  /** Rows returned at most; more are cut off and the output says `truncated`. */
  rowCap?: number;
}

const input = z.object({
  sql: z
    .string()
    .min(1)
    .max(MAX_SQL_LENGTH)
    .describe(
      `One PostgreSQL SELECT over the tables documents and queries (only those; no schema names, no $1 placeholders: write values into the SQL). ${describeViews()}.`,
    ),
});

const output = z.object({
  columns: z.array(z.string()).describe('The result columns, in order.'),
  rows: z.array(z.record(z.string(), z.unknown())).describe('The rows, each keyed by column name; timestamps as ISO strings.'),
  rowCount: z.number().int().nonnegative().describe('Rows returned (at most the row cap).'),
  truncated: z.boolean().describe('True when the query had more rows than the cap and the rest were cut off: aggregate or add a LIMIT.'),
});

export type DatabaseInput = z.output<typeof input>;
export type DatabaseOutput = z.output<typeof output>;

/**
 * Read-only SQL over the caller's own documents and query log. The SQL is parsed and only one
 * SELECT over the allowed views passes (sql-guard); it then runs with those names bound to CTEs
 * filtered by the caller's tenant, so no other tenant's row is reachable whatever it says, inside
 * a READ ONLY transaction under a statement timeout, and at most `rowCap` rows come back.
 */
export class DatabaseTool implements AgentTool<typeof input, typeof output> {
  readonly name = 'database';
  readonly description =
    'Answers questions about the document collection itself and the questions asked so far by running one read-only SQL SELECT: counts, lists, sizes, statuses, tags, dates (e.g. "how many PDFs were uploaded this month", "which documents failed", "most frequent questions"). Not for what documents say: search for that.';
  readonly input = input;
  readonly output = output;
  readonly timeoutMs: number;
  private readonly statementTimeoutMs: number;
  private readonly rowCap: number;
  private readonly views: string;

  constructor(
    private readonly dataSource: DataSource,
    options: DatabaseToolOptions = {},
  ) {
    this.statementTimeoutMs = Math.max(1, Math.floor(options.statementTimeoutMs ?? 2000));
    this.rowCap = Math.max(1, Math.floor(options.rowCap ?? 200));
    // Room for taking a pooled connection and the transaction's round trips around the statement.
    this.timeoutMs = this.statementTimeoutMs + 3000;
    this.views = tenantScopedViews((dataSource.options as { schema?: string }).schema);
  }

  async run({ sql }: DatabaseInput, context: ToolContext): Promise<DatabaseOutput> {
    const { text } = await checkSelect(sql);
    // The caller's text on lines of its own: a trailing `-- comment` ends at the newline.
    const statement = `${this.views}\nSELECT * FROM (\n${text}\n) AS result LIMIT ${this.rowCap + 1}`;
    const runner = this.dataSource.createQueryRunner();
    const client = (await runner.connect()) as PoolClient;
    try {
      context.signal.throwIfAborted();
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${this.statementTimeoutMs}`);
      const result = await client.query<unknown[]>({ text: statement, values: [context.tenantId], rowMode: 'array', types: JSON_FRIENDLY_TYPES });
      const columns = uniqueColumnNames(result.fields.map((field) => field.name));
      const truncated = result.rows.length > this.rowCap;
      const rows = result.rows.slice(0, this.rowCap).map((row) => Object.fromEntries(columns.map((column, index) => [column, jsonSafe(row[index])])));
      return { columns, rows, rowCount: rows.length, truncated };
    } catch (error) {
      throw this.explain(error);
    } finally {
      // Read only, so there is nothing to keep; a broken connection fails here and the pool drops it.
      await client.query('ROLLBACK').catch(() => undefined);
      await runner.release();
    }
  }

  summarize({ columns, rows, rowCount, truncated }: DatabaseOutput): string {
    const shape = `${rowCount} row${rowCount === 1 ? '' : 's'} × ${columns.length} column${columns.length === 1 ? '' : 's'}${truncated ? ` (cut off at ${this.rowCap})` : ''}`;
    if (rowCount !== 1 || columns.length > 4) return shape;
    const values = columns.map((column) => `${column} = ${JSON.stringify(rows[0][column])?.slice(0, 80)}`).join(', ');
    return `${shape}: ${values}`;
  }

  /**
   * The query's own faults (a column that does not exist, a division by zero, too slow) become
   * refusals the model can act on; the message names the column or value, never our wrapper.
   * Anything else is the tool's failure (logged by the registry, not shown).
   */
  private explain(error: unknown): unknown {
    if (error instanceof ToolInputError) return error;
    const { code, message, hint } = error as { code?: unknown; message?: string; hint?: string };
    if (typeof code !== 'string' || code.length !== 5) return error;
    if (code === '57014') return new ToolInputError(`the query ran longer than ${this.statementTimeoutMs} ms: aggregate, filter or add a LIMIT`);
    if (code === '25006') return new ToolInputError('the tool only reads');
    const sqlClass = code.slice(0, 2);
    // 42: syntax or access (unknown column, grouping), 22: data (bad cast, division by zero), 53/54: resources and limits.
    if (sqlClass === '42' || sqlClass === '22' || sqlClass === '53' || sqlClass === '54' || sqlClass === '21') {
      return new ToolInputError(`the query failed: ${message ?? 'error'}${hint ? ` (${hint})` : ''}`);
    }
    return error;
  }
}

export function createDatabaseTool(dataSource: DataSource, options?: DatabaseToolOptions): DatabaseTool {
  return new DatabaseTool(dataSource, options);
}
