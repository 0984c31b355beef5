import { parse } from 'libpg-query';
import { ToolInputError } from '../agent-tool';
import { ALLOWED_VIEW_NAMES } from './allowed-views';

/*
 * The SQL is parsed by PostgreSQL's own parser (libpg-query: the server's grammar compiled to
 * WebAssembly), so the guard reads exactly what the server would: nested comments, dollar quotes,
 * E'' strings and the like cannot hide a second statement from it. The tree is then checked
 * against allowlists — node types, functions, types, operators — so any construct not known to be
 * a side-effect-free read is refused, including ones added by a later PostgreSQL.
 */

export const MAX_SQL_LENGTH = 4000;

/** A statement the guard accepted: the exact text of its one SELECT, without a trailing semicolon. */
export interface CheckedSelect {
  text: string;
}

/** Node types a plain read may contain. Anything else (INTO, FOR UPDATE, DML, DDL, $n, TABLESAMPLE, XML, …) is refused. */
const ALLOWED_NODES = new Set([
  'SelectStmt',
  'ResTarget',
  'ColumnRef',
  'String',
  'Integer',
  'Float',
  'Boolean',
  'BitString',
  'A_Const',
  'A_Star',
  'A_Expr',
  'A_ArrayExpr',
  'A_Indirection',
  'A_Indices',
  'BoolExpr',
  'NullTest',
  'BooleanTest',
  'CaseExpr',
  'CaseWhen',
  'CoalesceExpr',
  'MinMaxExpr',
  'NamedArgExpr',
  'FuncCall',
  'TypeCast',
  'TypeName',
  'SQLValueFunction',
  'SubLink',
  'RangeVar',
  'RangeSubselect',
  'RangeFunction',
  'JoinExpr',
  'Alias',
  'SortBy',
  'WindowDef',
  'CommonTableExpr',
  'GroupingSet',
  'RowExpr',
  'List',
]);

/** Side-effect-free functions over the rows read; everything else (pg_sleep, set_config, dblink, lo_*, nextval, pg_read_file …) is refused. */
export const ALLOWED_FUNCTIONS: ReadonlySet<string> = new Set([
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'array_agg', 'string_agg', 'bool_and', 'bool_or', 'every',
  'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp', 'percentile_cont', 'percentile_disc', 'mode',
  // window functions
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value', 'last_value', 'nth_value',
  // numbers
  'abs', 'round', 'trunc', 'floor', 'ceil', 'ceiling', 'sqrt', 'power', 'mod', 'sign', 'ln', 'log', 'exp', 'greatest', 'least', 'width_bucket',
  // text
  'lower', 'upper', 'length', 'char_length', 'character_length', 'octet_length', 'initcap', 'concat', 'concat_ws', 'left', 'right',
  'substr', 'substring', 'position', 'strpos', 'replace', 'split_part', 'starts_with', 'btrim', 'ltrim', 'rtrim', 'lpad', 'rpad', 'reverse',
  // dates
  'now', 'date_trunc', 'date_part', 'extract', 'age', 'to_char', 'to_date', 'to_timestamp', 'make_date', 'make_interval', 'date_bin', 'timezone', 'justify_interval',
  // arrays and nulls
  'array_length', 'cardinality', 'array_to_string', 'array_position', 'unnest', 'coalesce', 'nullif',
]);

/** Functions the parser writes as pg_catalog.<name> for SQL syntax (EXTRACT(… FROM …), SUBSTRING(… FROM …), TRIM(…), AT TIME ZONE). */
const SQL_SYNTAX_FUNCTIONS = new Set(['extract', 'substring', 'position', 'btrim', 'ltrim', 'rtrim', 'timezone', 'overlay']);

const ALLOWED_TYPES = new Set([
  'int2', 'int4', 'int8', 'smallint', 'integer', 'int', 'bigint', 'numeric', 'decimal', 'float4', 'float8', 'real',
  'text', 'varchar', 'bpchar', 'char', 'bool', 'boolean', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'uuid',
]);

const ALLOWED_OPERATORS = new Set([
  '=', '<>', '!=', '<', '>', '<=', '>=', '+', '-', '*', '/', '%', '^', '||', '|/', '@',
  '~~', '!~~', '~~*', '!~~*', '~', '!~', '~*', '!~*', '@>', '<@', '&&',
]);

const ALLOWED_VALUE_FUNCTIONS = new Set([
  'SVFOP_CURRENT_DATE', 'SVFOP_CURRENT_TIME', 'SVFOP_CURRENT_TIME_N', 'SVFOP_CURRENT_TIMESTAMP', 'SVFOP_CURRENT_TIMESTAMP_N',
  'SVFOP_LOCALTIME', 'SVFOP_LOCALTIME_N', 'SVFOP_LOCALTIMESTAMP', 'SVFOP_LOCALTIMESTAMP_N',
]);

const CTE_FIELDS = new Set(['ctename', 'aliascolnames', 'ctematerialized', 'ctequery', 'location']);

const STATEMENT_NAMES: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  DropStmt: 'DROP',
  CreateStmt: 'CREATE TABLE',
  CreateTableAsStmt: 'CREATE TABLE AS',
  TruncateStmt: 'TRUNCATE',
  CopyStmt: 'COPY',
  VariableSetStmt: 'SET',
  VariableShowStmt: 'SHOW',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  ExplainStmt: 'EXPLAIN',
  TransactionStmt: 'a transaction command',
  LockStmt: 'LOCK',
  GrantStmt: 'GRANT',
  AlterTableStmt: 'ALTER TABLE',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const refuse = (reason: string): never => {
  throw new ToolInputError(reason);
};

/**
 * Checks that `sql` is one read-only SELECT over the allowed views, and returns its text; refuses
 * (ToolInputError, with a reason a model can act on) anything else.
 */
export async function checkSelect(sql: string): Promise<CheckedSelect> {
  if (sql.trim() === '') refuse('the SQL is empty');
  if (sql.length > MAX_SQL_LENGTH) refuse(`the SQL is longer than ${MAX_SQL_LENGTH} characters`);
  let tree: { stmts?: Array<{ stmt: JsonObject; stmt_location?: number; stmt_len?: number }> };
  try {
    tree = (await parse(sql)) as typeof tree;
  } catch (error) {
    return refuse(`the SQL does not parse: ${(error as Error).message}`);
  }
  const statements = tree.stmts ?? [];
  if (statements.length === 0) refuse('the SQL holds no statement');
  if (statements.length > 1) refuse('only a single SELECT statement is allowed, not several');
  const [{ stmt, stmt_location: location = 0, stmt_len: length = 0 }] = statements;
  const [type] = Object.keys(stmt);
  if (type !== 'SelectStmt') refuse(`only a SELECT statement is allowed, not ${STATEMENT_NAMES[type] ?? type.replace(/Stmt$/, '')}`);
  visitSelect(stmt.SelectStmt as JsonObject, new Set());
  // Locations count UTF-8 bytes; the text ends before any trailing semicolon.
  const bytes = Buffer.from(sql, 'utf8');
  const text = bytes.subarray(location, length > 0 ? location + length : undefined).toString('utf8');
  return { text };
}

/** A SELECT (or one arm of a UNION): its WITH names are in scope for its other parts, as PostgreSQL scopes them. */
function visitSelect(select: JsonObject, outer: ReadonlySet<string>): void {
  const scope = new Set(outer);
  const withClause = select.withClause as JsonObject | undefined;
  if (withClause) {
    const ctes = ((withClause.ctes as Json[]) ?? []).map((entry) => {
      const cte = (entry as JsonObject).CommonTableExpr as JsonObject | undefined;
      return cte ?? refuse('a WITH entry that is not a plain query is not allowed');
    });
    // WITH RECURSIVE names are visible in every entry; a plain WITH name only in the entries after it.
    if (withClause.recursive === true) for (const cte of ctes) scope.add(cte.ctename as string);
    for (const cte of ctes) {
      for (const field of Object.keys(cte)) if (!CTE_FIELDS.has(field)) refuse(`WITH … ${field.replace('_clause', '').toUpperCase()} is not allowed`);
      visit(cte.ctequery, scope);
      scope.add(cte.ctename as string);
    }
  }
  for (const [key, child] of Object.entries(select)) {
    if (key === 'withClause') continue;
    if (key === 'intoClause') refuse('SELECT … INTO is not allowed: the tool only reads');
    if (key === 'larg' || key === 'rarg') visitSelect(child as JsonObject, scope);
    else visit(child, scope);
  }
}

function visit(value: Json | undefined, scope: ReadonlySet<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) visit(item, scope);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  // A bare RangeVar (one the parser does not wrap in a node) is checked like a wrapped one.
  if ('relname' in value) checkRelation(value, scope);
  for (const [key, child] of Object.entries(value)) {
    // Node types are capitalised in the parse tree; field names are not.
    if (/^[A-Z]/.test(key)) visitNode(key, child as JsonObject, scope);
    else if (key === 'intoClause') refuse('SELECT … INTO is not allowed: the tool only reads');
    else if (key === 'typeName') checkType(child as JsonObject);
    else visit(child, scope);
  }
}

function visitNode(type: string, node: JsonObject, scope: ReadonlySet<string>): void {
  if (!ALLOWED_NODES.has(type)) refuse(describeRefusedNode(type));
  switch (type) {
    case 'SelectStmt':
      return visitSelect(node, scope);
    case 'RangeVar':
      return visit(node, scope); // checked through its relname
    case 'FuncCall':
      checkFunction(node);
      return visit(node, scope);
    case 'TypeName':
      return checkType(node);
    case 'SQLValueFunction':
      if (!ALLOWED_VALUE_FUNCTIONS.has(node.op as string)) refuse(`${(node.op as string).replace('SVFOP_', '')} is not allowed: only CURRENT_DATE, CURRENT_TIMESTAMP and the like are`);
      return;
    case 'A_Expr':
      checkOperator(node);
      return visit(node, scope);
    case 'ColumnRef':
      if (((node.fields as Json[]) ?? []).length > 2) refuse('schema-qualified names are not allowed: write view.column or column');
      return;
    default:
      return visit(node, scope);
  }
}

function describeRefusedNode(type: string): string {
  if (type === 'ParamRef') return 'placeholders like $1 are not allowed: write the values into the SQL';
  if (type === 'LockingClause') return 'SELECT … FOR UPDATE / FOR SHARE is not allowed: the tool only reads';
  if (type.endsWith('Stmt')) return `only a SELECT is allowed, not ${STATEMENT_NAMES[type] ?? type.replace(/Stmt$/, '')} (also not inside WITH)`;
  return `${type} is not allowed in the SQL`;
}

function checkRelation(relation: JsonObject, scope: ReadonlySet<string>): void {
  const name = relation.relname as string;
  if (relation.schemaname || relation.catalogname) refuse(`schema-qualified names are not allowed: use ${[...ALLOWED_VIEW_NAMES].join(' or ')}`);
  if (scope.has(name) || ALLOWED_VIEW_NAMES.has(name)) return;
  refuse(`unknown table "${name}": the tables you can query are ${[...ALLOWED_VIEW_NAMES].join(' and ')}`);
}

function names(list: Json | undefined): string[] {
  return ((list as Json[] | undefined) ?? []).map((item) => ((item as JsonObject).String as JsonObject | undefined)?.sval as string);
}

function checkFunction(call: JsonObject): void {
  const parts = names(call.funcname);
  const name = parts[parts.length - 1];
  const sqlSyntax = parts.length === 2 && parts[0] === 'pg_catalog' && call.funcformat === 'COERCE_SQL_SYNTAX' && SQL_SYNTAX_FUNCTIONS.has(name);
  if (parts.length > 1 && !sqlSyntax) refuse(`schema-qualified functions are not allowed (${parts.join('.')})`);
  if (!ALLOWED_FUNCTIONS.has(name)) refuse(`the function ${name}() is not allowed; allowed: ${[...ALLOWED_FUNCTIONS].join(', ')}`);
}

function checkType(typeName: JsonObject): void {
  const parts = names(typeName.names);
  const name = parts[parts.length - 1];
  if ((parts.length === 2 && parts[0] !== 'pg_catalog') || parts.length > 2 || !ALLOWED_TYPES.has(name)) {
    refuse(`the type ${parts.join('.')} is not allowed; allowed: ${[...ALLOWED_TYPES].join(', ')}`);
  }
}

const BETWEEN_KINDS = new Set(['AEXPR_BETWEEN', 'AEXPR_NOT_BETWEEN', 'AEXPR_BETWEEN_SYM', 'AEXPR_NOT_BETWEEN_SYM']);

function checkOperator(expression: JsonObject): void {
  if (BETWEEN_KINDS.has(expression.kind as string)) return;
  const parts = names(expression.name);
  if (parts.length !== 1 || !ALLOWED_OPERATORS.has(parts[0])) refuse(`the operator ${parts.join('.')} is not allowed`);
}
