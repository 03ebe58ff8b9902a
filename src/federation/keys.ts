/** Generation of the RSA key pairs that sign this server's requests (the application actor, each group). */
import { generateKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyPairGenerator } from '../groups/ports.ts';

const generateKeyPairAsync = promisify(generateKeyPair);

/** RSA-2048 key pairs, generated on libuv's thread pool. Tests may pass fixed keys instead. */
export const rsaKeyPairs: KeyPairGenerator = {
  async generate() {
    const { publicKey, privateKey } = await generateKeyPairAsync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    return { publicKeyPem: publicKey, privateKeyPem: privateKey };
  },
};
