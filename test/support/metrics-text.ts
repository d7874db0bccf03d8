/** The values of every sample of that name, in Prometheus' text format, whose labels include these. */
function matchingValues(text: string, name: string, labels: Record<string, string>): number[] {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const match = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const sample = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, expected]) => sample[key] === expected)) values.push(Number(match[3]));
  }
  return values;
}

/**
 * The value of one sample in Prometheus' text format, e.g.
 * `sampleValue(text, 'stripe_webhook_requests_total', { outcome: 'accepted' })`: the first
 * sample of that name whose labels include these.
 */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return matchingValues(text, name, labels)[0];
}

/** The sum of every sample of that name whose labels include these (0 when there is none): over a server's partitions or priorities, say. */
export function sampleTotal(text: string, name: string, labels: Record<string, string> = {}): number {
  return matchingValues(text, name, labels).reduce((sum, value) => sum + value, 0);
}

/** A histogram's running totals: the sum and count of its observations. */
export interface HistogramTotals {
  sum: number;
  count: number;
}

/** A histogram's running totals over every series whose labels include these. */
export function histogramTotals(text: string, name: string, labels: Record<string, string> = {}): HistogramTotals {
  return { sum: sampleTotal(text, `${name}_sum`, labels), count: sampleTotal(text, `${name}_count`, labels) };
}

/** The mean observation between two scrapes, in ms for a histogram in seconds; NaN when nothing was observed between them. */
export function meanMsBetween(before: HistogramTotals, after: HistogramTotals): number {
  return ((after.sum - before.sum) / (after.count - before.count)) * 1000;
}
