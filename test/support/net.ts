/** Loopback helpers for tests: free ports and polling without fixed sleeps. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Where the kernel picks the local ports of outgoing connections (Linux), or null. */
function ephemeralRange(): [number, number] | null {
  try {
    const [low, high] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    const range: [number, number] = [Number(low), Number(high)];
    return Number.isInteger(range[0]) && Number.isInteger(range[1]) ? range : null;
  } catch {
    return null;
  }
}

function listenOn(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      const addr = s.address();
      const bound = typeof addr === 'object' && addr ? addr.port : null;
      s.close(() => resolve(bound));
    });
  });
}

/**
 * A loopback port free now. Below the ephemeral range where there is room (Linux): a server that a test stops
 * and starts again on the same port would otherwise find it taken, in between, by some outgoing connection.
 */
export async function freePort(): Promise<number> {
  const range = ephemeralRange();
  const from = 10_000;
  if (range && range[0] - from >= 10_000) {
    for (let i = 0; i < 50; i++) {
      const port = await listenOn(from + Math.floor(Math.random() * (range[0] - from)));
      if (port !== null) return port;
    }
  }
  const port = await listenOn(0);
  if (port === null) throw new Error('no free loopback port');
  return port;
}

/** Polls `check` with back-off until it returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitUntil<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; what: string },
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let delay = 10;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${opts.what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 200);
  }
}
