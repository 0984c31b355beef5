/** Percentile of a sample (nearest-rank), in the sample's unit. */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summarize(label: string, samplesMs: number[]): string {
  const fmt = (value: number) => value.toFixed(2).padStart(8);
  return `${label.padEnd(44)} n=${String(samplesMs.length).padStart(4)}  p50 ${fmt(percentile(samplesMs, 50))} ms  p95 ${fmt(percentile(samplesMs, 95))} ms  p99 ${fmt(percentile(samplesMs, 99))} ms`;
}
