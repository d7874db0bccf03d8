import net from 'node:net';

/**
 * A TCP proxy that can stall: while stalled it keeps every connection open and accepts new ones,
 * but passes no byte either way, as a PostgreSQL that hangs (or a network that drops packets)
 * looks to a client.
 */
export interface StallingProxy {
  port: number;
  stall(): void;
  resume(): void;
  stop(): Promise<void>;
}

export async function startStallingProxy(target: { host: string; port: number }): Promise<StallingProxy> {
  let stalled = false;
  // What arrived while stalled, held back with the socket it is for.
  const held: [net.Socket, Buffer][] = [];
  const pairs = new Set<[net.Socket, net.Socket]>();
  const forward = (from: net.Socket, to: net.Socket) =>
    from.on('data', (chunk: Buffer) => (stalled ? held.push([to, chunk]) : to.write(chunk)));
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    forward(client, upstream);
    forward(upstream, client);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    stall() {
      stalled = true;
    },
    resume() {
      stalled = false;
      for (const [to, chunk] of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    async stop() {
      for (const [client, upstream] of pairs) [client, upstream].forEach((socket) => socket.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
