/**
 * HTTP clients for tests of connection limits: requests from a chosen loopback address (Linux routes all of
 * 127.0.0.0/8 to lo, so each address is another client to the server), and a POST whose body never finishes.
 */
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';

/** A GET from `from`; status null when the server closed the connection without answering. */
export function get(
  port: number,
  path: string,
  from: string,
  headers: Record<string, string> = {},
): Promise<{ status: number | null; body: string }> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, localAddress: from, agent: false, headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? null, body }));
        res.on('error', () => resolve({ status: null, body }));
      },
    );
    req.on('error', () => resolve({ status: null, body: '' }));
    req.end();
  });
}

export interface SlowRequest {
  /** The server closed the connection. */
  readonly closed: boolean;
  /** What the server sent back so far. */
  readonly response: string;
  destroy(): void;
}

/**
 * Sends the headers of a POST declaring `declaredBytes` of body and then only `sentBytes` of it, from `from`;
 * resolves once they are written. The rest never comes.
 */
export function slowPost(
  port: number,
  path: string,
  from: string,
  o: { declaredBytes: number; sentBytes: number },
): Promise<SlowRequest> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port, localAddress: from });
    const state = { closed: false, response: '' };
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (state.response += d));
    socket.on('close', () => (state.closed = true));
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      const head =
        `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/activity+json\r\n` +
        `Content-Length: ${o.declaredBytes}\r\n\r\n`;
      socket.write(head + '{'.padEnd(o.sentBytes, ' '), () =>
        resolve({
          get closed() {
            return state.closed;
          },
          get response() {
            return state.response;
          },
          destroy: () => socket.destroy(),
        }),
      );
    });
    socket.once('error', reject);
  });
}
