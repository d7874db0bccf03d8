import http from 'node:http';

/**
 * A pass-through in front of stripe-mock that remembers which API calls the service made
 * (stripe-mock itself keeps no state to ask).
 */
export interface StripeRecorder {
  url: string;
  calls: string[];
  stop(): Promise<void>;
}

export async function startStripeRecorder(stripeMockUrl: string): Promise<StripeRecorder> {
  const target = new URL(stripeMockUrl);
  const calls: string[] = [];
  const server = http.createServer((req, res) => {
    calls.push(`${req.method} ${req.url?.split('?')[0]}`);
    const upstream = http.request(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    calls,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
