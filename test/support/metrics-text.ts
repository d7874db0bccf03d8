/**
 * The value of one sample in Prometheus' text format, e.g.
 * `sampleValue(text, 'stripe_webhook_requests_total', { outcome: 'accepted' })`: the first
 * sample of that name whose labels include these.
 */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([\w:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const sample = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([key, expected]) => sample[key] === expected)) return Number(match[3]);
  }
  return undefined;
}
