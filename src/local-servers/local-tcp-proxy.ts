/**
 * A TCP proxy for outage tests and the drill: the app talks to a server
 * through it, and the caller cuts every connection (and refuses new ones) or
 * lets traffic through again. Loopback only.
 */
import net from 'node:net';

export interface TcpProxy {
  port: number;
  /** drops every connection and refuses new ones */
  cut(): void;
  /** lets traffic through again, to `targetPort` when given (a server restarted elsewhere) */
  restore(targetPort?: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(initialTarget: number): Promise<TcpProxy> {
  let up = true;
  let targetPort = initialTarget;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!up) return void client.destroy();
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cut() {
      up = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
    },
    restore(to) {
      if (to !== undefined) targetPort = to;
      up = true;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
