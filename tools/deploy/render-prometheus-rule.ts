// Renders the Prometheus Operator's copy of the alert rules, k8s/components/monitoring/prometheusrule.yaml,
// from deploy/prometheus/rules/quarry-alerts.yml, so compose and Kubernetes run the same rules.
// (kustomize cannot do it: configMapGenerator makes ConfigMaps, and a PrometheusRule is a custom
// resource with the groups inline.) tools/deploy/alert-rules.spec.ts fails when the committed file
// differs from this output. After changing the rules:
//
//   npm run deploy:rules
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';

/** The repository root, found from here whether run from tools/ (jest) or dist/tools/ (node). */
function repoRoot(from: string): string {
  for (let dir = from; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'nx.json'))) return dir;
  }
  throw new Error(`no nx.json above ${from}`);
}

const ROOT = repoRoot(__dirname);
export const RULE_FILE = path.join(ROOT, 'deploy', 'prometheus', 'rules', 'quarry-alerts.yml');
export const PROMETHEUS_RULE_FILE = path.join(ROOT, 'k8s', 'components', 'monitoring', 'prometheusrule.yaml');

const HEADER = `# GENERATED from deploy/prometheus/rules/quarry-alerts.yml by tools/deploy/render-prometheus-rule.ts.
# Do not edit: change the rule file (comments and reasons live there), then run
#   npm run deploy:rules
# Prometheus picks this up only if its ruleSelector matches these labels (kube-prometheus-stack:
# release: <release name>); add the label in your overlay, see k8s/README.md.
`;

/** The PrometheusRule manifest (YAML text) carrying the rule file's groups unchanged. */
export function renderPrometheusRule(ruleFileText: string = fs.readFileSync(RULE_FILE, 'utf8')): string {
  const { groups } = parse(ruleFileText) as { groups: unknown[] };
  const manifest = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'quarry-alerts',
      namespace: 'quarry',
      labels: { 'app.kubernetes.io/name': 'quarry-alerts', 'app.kubernetes.io/part-of': 'quarry' },
    },
    spec: { groups },
  };
  // lineWidth 0: no folding, so each expression reads as in the rule file (multi-line ones as `|`).
  return HEADER + stringify(manifest, { lineWidth: 0 });
}

if (require.main === module) {
  fs.writeFileSync(PROMETHEUS_RULE_FILE, renderPrometheusRule());
  console.log(`wrote ${path.relative(ROOT, PROMETHEUS_RULE_FILE)}`);
}
