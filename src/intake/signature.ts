import { createHmac, timingSafeEqual } from 'node:crypto';

export type SignatureErrorCode = 'signature_missing' | 'signature_invalid' | 'timestamp_out_of_tolerance';

export class SignatureError extends Error {
  constructor(
    readonly code: SignatureErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SignatureError';
  }
}

export interface SignatureCheck {
  secrets: string[];
  toleranceSeconds: number;
  nowSeconds: number;
}

/** The parts of a `Stripe-Signature` header that passed the cheap checks. */
export interface SignatureHeader {
  timestamp: string;
  signatures: Buffer[];
}

/** Stripe sends one `v1` per active secret (two while rotating); more is not a Stripe header. */
const maxSignatures = 8;

/**
 * The checks that cost nothing: the header is there, names a timestamp within the tolerance
 * and one to a few `v1` signatures. They run before the body is read, so a request that fails
 * them costs neither the body nor a hash. Timestamps too far in the future are refused as well
 * as old ones, so a captured signature cannot be post-dated for a later replay.
 */
export function readSignatureHeader(header: string | undefined, check: Omit<SignatureCheck, 'secrets'>): SignatureHeader {
  if (!header || header.trim() === '') {
    throw new SignatureError('signature_missing', 'The Stripe-Signature header is missing.');
  }
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  let malformed = 0;
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1') {
      if (/^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
      else malformed += 1;
    }
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) {
    throw new SignatureError('signature_invalid', 'The Stripe-Signature header has no valid timestamp (t=).');
  }
  if (signatures.length === 0) {
    throw new SignatureError(
      'signature_invalid',
      malformed > 0
        ? 'The Stripe-Signature header has no well-formed v1 signature: a v1 value is 64 hexadecimal characters (HMAC-SHA256).'
        : 'The Stripe-Signature header has no v1 signature.',
    );
  }
  if (signatures.length > maxSignatures) {
    throw new SignatureError('signature_invalid', `The Stripe-Signature header holds ${signatures.length} v1 signatures; at most ${maxSignatures} are accepted.`);
  }
  if (Math.abs(check.nowSeconds - Number(timestamp)) > check.toleranceSeconds) {
    throw new SignatureError(
      'timestamp_out_of_tolerance',
      `The signature timestamp is more than ${check.toleranceSeconds} s away from the server clock.`,
    );
  }
  return { timestamp, signatures };
}

/**
 * Whether the raw request bytes carry a signature of a configured secret: any `v1` entry may
 * match any secret (Stripe sends one per active secret while rotating). `v0` entries are test
 * signatures and never count. At most one hash per secret, over a body bounded by
 * WEBHOOK_MAX_BYTES.
 */
export function verifySignedBody(rawBody: Buffer, header: SignatureHeader, secrets: string[]): void {
  const signedPayload = Buffer.concat([Buffer.from(`${header.timestamp}.`, 'utf8'), rawBody]);
  const matches = secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(signedPayload).digest();
    // Compare against every entry, without stopping early, so timing reveals nothing.
    return header.signatures.reduce((found, signature) => timingSafeEqual(expected, signature) || found, false);
  });
  if (!matches) {
    throw new SignatureError('signature_invalid', 'No signature matches the payload for any configured secret.');
  }
}

/** Both checks at once: the header, then the body. */
export function verifySignature(rawBody: Buffer, header: string | undefined, check: SignatureCheck): void {
  verifySignedBody(rawBody, readSignatureHeader(header, check), check.secrets);
}
