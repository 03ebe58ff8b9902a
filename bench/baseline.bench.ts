/**
 * What the rows are compared with: the machine, and the raw RSA-2048 signing and verification rates of one core
 * measured in the same run (tight loops of `crypto.sign` / `crypto.verify` on a pre-parsed key).
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign as rsaSign,
  verify as rsaVerify,
  type KeyObject,
} from 'node:crypto';
import { cpus, totalmem, availableParallelism, loadavg, platform, release } from 'node:os';

export interface Machine {
  cpu: string;
  cores: number;
  ramBytes: number;
  node: string;
  os: string;
  date: string;
  /** 1-minute load average when the bench started (other processes compete for the same cores). */
  loadAtStart: number;
}

/** The 1-minute load average now. */
export const loadNow = (): number => loadavg()[0] ?? 0;

export function machine(): Machine {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    ramBytes: totalmem(),
    node: process.version,
    os: `${platform()} ${release()}`,
    date: new Date().toISOString(),
    loadAtStart: loadNow(),
  };
}

/** Operations per second of one core, and how they were measured. */
export interface Rate {
  perSecond: number;
  ops: number;
  ms: number;
}

export interface Baselines {
  /** `crypto.sign('sha256', ...)` with a parsed RSA-2048 private key. */
  sign: Rate;
  /** The same, passing the PEM text each time (the key is parsed on every call). */
  signPem: Rate;
  /** `crypto.verify('sha256', ...)` with a parsed RSA-2048 public key. */
  verify: Rate;
  /** The same, parsing the public key PEM with `createPublicKey` before each verification. */
  verifyPem: Rate;
}

/** Runs `op` in batches until `ms` have passed (or `maxOps` ran) and returns its rate. */
function loop(ms: number, maxOps: number, op: () => void): Rate {
  const start = performance.now();
  let ops = 0;
  let elapsed = 0;
  while (elapsed < ms && ops < maxOps) {
    for (let i = 0; i < 20; i++) op();
    ops += 20;
    elapsed = performance.now() - start;
  }
  return { perSecond: (ops * 1000) / elapsed, ops, ms: elapsed };
}

/** A signing string shaped like the one Guild signs for a delivery. */
const SIGNING_STRING = Buffer.from(
  [
    '(request-target): post /inbox',
    'host: 127.0.0.1:40000',
    `date: ${new Date().toUTCString()}`,
    'digest: SHA-256=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=',
    'content-type: application/activity+json',
  ].join('\n'),
);

/**
 * A signer of the delivery-shaped string on one core, for measurements taken between the steps of a row (the
 * machine's speed drifts during a run: a bound measured right next to a trial compares like with like).
 */
export function signRateMeter(): (ms: number) => Rate {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  loop(100, 1_000_000, () => rsaSign('sha256', SIGNING_STRING, privateKey));
  return (ms) => loop(ms, 1_000_000, () => rsaSign('sha256', SIGNING_STRING, privateKey));
}

/** Measures the four rates, `ms` each, on the harness's own (otherwise idle) core. */
export function measureBaselines(ms: number): Baselines {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  const priv: KeyObject = createPrivateKey(privateKey);
  const pub: KeyObject = createPublicKey(publicKey);
  const signature = rsaSign('sha256', SIGNING_STRING, priv);
  const maxOps = 1_000_000;
  // Warm up the code paths so the first timed batch is not the slowest.
  loop(100, maxOps, () => rsaSign('sha256', SIGNING_STRING, priv));
  return {
    sign: loop(ms, maxOps, () => rsaSign('sha256', SIGNING_STRING, priv)),
    signPem: loop(ms / 2, maxOps, () => rsaSign('sha256', SIGNING_STRING, privateKey)),
    verify: loop(ms, maxOps, () => {
      if (!rsaVerify('sha256', SIGNING_STRING, pub, signature)) throw new Error('verification failed');
    }),
    verifyPem: loop(ms / 2, maxOps, () => {
      if (!rsaVerify('sha256', SIGNING_STRING, createPublicKey(publicKey), signature)) {
        throw new Error('verification failed');
      }
    }),
  };
}
