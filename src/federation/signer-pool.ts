/**
 * RSA signatures on threads of their own, at a chosen CPU priority. A fan-out spends most of its CPU time on
 * signatures; computing them on a few low-priority threads uses every core while the threads that answer
 * inbox requests keep the upper hand. Each thread gets a private key once (a KeyObject, passed without its PEM
 * being parsed again) and then signs strings by key number.
 */
import { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';

/** The code of a signer thread: plain JavaScript, so that it loads nothing but node:crypto. */
const SIGNER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { sign } = require('node:crypto');
if (workerData.nice > 0 && process.platform === 'linux') {
  try {
    const tid = Number(require('node:fs').readlinkSync('/proc/thread-self').split('/').pop());
    if (tid > 0) require('node:os').setPriority(tid, workerData.nice);
  } catch {}
}
const keys = new Map();
parentPort.on('message', (m) => {
  if (m.kind === 'key') { keys.set(m.key, m.value); return; }
  const key = keys.get(m.key);
  try {
    if (!key) throw new Error('unknown key ' + m.key);
    parentPort.postMessage({ seq: m.seq, signature: sign('sha256', Buffer.from(m.data), key).toString('base64') });
  } catch (e) {
    parentPort.postMessage({ seq: m.seq, error: String(e && e.message || e) });
  }
});
`;

interface Waiting {
  resolve: (signature: string) => void;
  reject: (error: Error) => void;
}

interface Signer {
  worker: Worker;
  /** Key numbers this thread has been given. */
  keys: Set<number>;
  waiting: Map<number, Waiting>;
}

export class SignerPool {
  private readonly signers: Signer[] = [];
  private readonly keyNumbers = new WeakMap<KeyObject, number>();
  private nextKey = 1;
  private nextSeq = 1;
  private closed = false;

  constructor(
    threads: number,
    private readonly nice: number,
  ) {
    for (let i = 0; i < Math.max(1, threads); i++) this.signers.push(this.spawn(i));
  }

  private spawn(index: number): Signer {
    const worker = new Worker(SIGNER_SOURCE, {
      eval: true,
      workerData: { nice: this.nice },
      name: `guild-signer-${index}`,
    });
    const signer: Signer = { worker, keys: new Set(), waiting: new Map() };
    worker.on('message', (m: { seq: number; signature?: string; error?: string }) => {
      const w = signer.waiting.get(m.seq);
      if (!w) return;
      signer.waiting.delete(m.seq);
      if (m.signature !== undefined) w.resolve(m.signature);
      else w.reject(new Error(`signing failed: ${m.error ?? 'unknown error'}`));
    });
    worker.on('error', () => undefined);
    worker.on('exit', () => {
      const error = new Error('a signer thread stopped');
      for (const w of signer.waiting.values()) w.reject(error);
      signer.waiting.clear();
      // Its requests failed (their deliveries are retried); a new thread takes its place.
      if (!this.closed) this.signers[index] = this.spawn(index);
    });
    worker.unref();
    return signer;
  }

  /** The RSA-SHA256 signature of `data` (UTF-8) with `key`, base64. */
  sign(key: KeyObject, data: string): Promise<string> {
    if (this.closed) return Promise.reject(new Error('the signer pool is closed'));
    let number = this.keyNumbers.get(key);
    if (number === undefined) {
      number = this.nextKey++;
      this.keyNumbers.set(key, number);
    }
    // The least busy thread.
    let signer = this.signers[0] as Signer;
    for (const s of this.signers) if (s.waiting.size < signer.waiting.size) signer = s;
    if (!signer.keys.has(number)) {
      signer.worker.postMessage({ kind: 'key', key: number, value: key });
      signer.keys.add(number);
    }
    const seq = this.nextSeq++;
    const chosen = signer;
    return new Promise<string>((resolve, reject) => {
      chosen.waiting.set(seq, { resolve, reject });
      chosen.worker.postMessage({ kind: 'sign', seq, key: number, data });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.signers.map((s) => s.worker.terminate()));
  }
}
