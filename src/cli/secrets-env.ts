import type { SECRETS_ENV as RENDER_SECRETS_ENV } from '../render/secrets.js';

/** SECRETS_ENV of src/render/secrets.ts (its type is that value), for command help. */
export const SECRETS_ENV: typeof RENDER_SECRETS_ENV = {
  token: 'FLAT6_BOOTSTRAP_TOKEN',
  certificateKey: 'FLAT6_CERTIFICATE_KEY',
  caCertHashes: 'FLAT6_CA_CERT_HASHES',
};
