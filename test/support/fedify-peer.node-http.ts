/**
 * A minimal bridge between node:http and a fetch-style handler (`(Request) => Promise<Response>`), used to serve
 * a fedify `Federation` on a loopback port without a web framework.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fetch-style request handler. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** A started loopback server. */
export interface LoopbackServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  /** Stops accepting connections and closes the open ones. */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

async function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > MAX_BODY_BYTES) return 'too-large';
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function toHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

async function bridge(handler: FetchHandler, origin: string, req: IncomingMessage, res: ServerResponse) {
  const body = await readBody(req);
  if (body === 'too-large') {
    res.writeHead(413, { 'content-type': 'text/plain' }).end('Body too large.');
    return;
  }
  const method = req.method ?? 'GET';
  const request = new Request(new URL(req.url ?? '/', origin), {
    method,
    headers: toHeaders(req),
    body: method === 'GET' || method === 'HEAD' ? null : new Uint8Array(body),
  });
  const response = await handler(request);
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const payload = Buffer.from(await response.arrayBuffer());
  res.writeHead(response.status, headers).end(payload);
}

/**
 * Listens on 127.0.0.1 with an OS-assigned port. `makeHandler` receives the origin (known only once the port
 * is bound) and returns the handler for every request.
 */
export async function serveOnLoopback(
  makeHandler: (origin: string) => FetchHandler,
): Promise<LoopbackServer> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const handler = makeHandler(origin);
  // Attached in the same tick as the listen callback, before any connection can be served.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    bridge(handler, origin, req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`Internal error: ${String(error)}`);
    });
  });
  return {
    origin,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
