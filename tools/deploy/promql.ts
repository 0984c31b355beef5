// A PromQL lexer just good enough to list the series an expression reads: the dashboard and the
// alert-rule specs check those names against what the services register. Prometheus itself parses
// and runs the expressions in promtool and the operations e2e.

/** Words that are PromQL syntax rather than metric names when they are not followed by `(`. */
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan', 'atan2']);

/** Metric (series) names referenced by a PromQL expression (Grafana template variables ignored). */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""') // string literals (label values, regexes)
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // range / subquery selectors, including $__rate_interval
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/\$\{?\w+\}?/g, ' '); // any remaining template variables
  const names: string[] = [];
  for (const match of stripped.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?/g)) {
    const [, word, call] = match;
    const previous = stripped[(match.index ?? 0) - 1];
    // Functions/aggregations are followed by `(`; numbers such as 1e3 start with a digit.
    if (call || PROMQL_WORDS.has(word) || (previous !== undefined && /[0-9.]/.test(previous))) continue;
    names.push(word);
  }
  return names;
}
