/**
 * A TCP proxy that can hold one statement on its way to PostgreSQL: the
 * first chunk a client sends that matches a pattern (a statement writing a
 * report) is kept back, with everything after it on that connection, until
 * the test releases it. The process waits on its commit for as long as the
 * test likes, and the test sees when the server's answer went back.
 * Loopback only; a connection closed while held loses what was held (as a
 * killed process's would).
 */
import net from 'node:net';

export interface HoldingProxy {
  port: number;
  /** Holds the next statement that matches `pattern`; resolves once one is held. */
  holdNext(pattern: RegExp): Promise<void>;
  /** Sends what is held; resolves when the server's first answer to it has passed back to the client. */
  release(): Promise<void>;
  /** Resolves once the client of the held statement has closed its connection (what was held is dropped, never sent). */
  heldClosed(): Promise<void>;
  close(): Promise<void>;
}

interface Held {
  client: net.Socket;
  upstream: net.Socket;
  chunks: Buffer[];
  /** set by release(): what the client sends next goes straight through */
  answered?: () => void;
  closed: Promise<void>;
  onClosed: () => void;
}

export async function startHoldingProxy(targetPort: number): Promise<HoldingProxy> {
  const sockets = new Set<net.Socket>();
  let armed: { pattern: RegExp; onHeld: () => void } | undefined;
  let held: Held | undefined;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    let seen = '';
    const drop = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
      if (held?.client === client) {
        held.chunks = [];
        held.onClosed();
      }
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (chunk: Buffer) => {
      if (held?.client === client && !held.answered) return void held.chunks.push(chunk);
      if (armed) {
        // A statement may arrive in several chunks: look at what this connection sent lately.
        seen = (seen + chunk.toString('latin1')).slice(-65_536);
        if (armed.pattern.test(seen)) {
          let onClosed = () => {};
          const closed = new Promise<void>((resolve) => (onClosed = resolve));
          held = { client, upstream, chunks: [chunk], closed, onClosed };
          const { onHeld } = armed;
          armed = undefined;
          onHeld();
          return;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      client.write(chunk);
      if (held?.upstream === upstream && held.answered) {
        const answered = held.answered;
        held = undefined;
        answered();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    holdNext: (pattern) =>
      new Promise<void>((resolve) => {
        armed = { pattern, onHeld: resolve };
      }),
    release: () =>
      new Promise<void>((resolve, reject) => {
        if (!held) return reject(new Error('nothing is held'));
        if (held.client.destroyed) {
          held = undefined;
          return reject(new Error('the client closed its connection while its statement was held'));
        }
        held.answered = resolve;
        for (const chunk of held.chunks.splice(0)) held.upstream.write(chunk);
      }),
    heldClosed: () => (held ? held.closed : Promise.reject(new Error('nothing is held'))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
