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

/**
 * Verifies a `Stripe-Signature` header over the raw request bytes. Any `v1` entry may match
 * any configured secret (Stripe sends one per active secret while rotating). `v0` entries are
 * test signatures and never count. Timestamps too far in the future are rejected as well as
 * old ones, so a captured signature cannot be post-dated for a later replay.
 */
export function verifySignature(rawBody: Buffer, header: string | undefined, check: SignatureCheck): void {
  if (!header || header.trim() === '') {
    throw new SignatureError('signature_missing', 'The Stripe-Signature header is missing.');
  }
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const separator = part.indexOf('=');
    if (separator < 0) continue;
    const key = part.slice(0, separator).trim();
    const value = part.slice(separator + 1).trim();
    if (key === 't') timestamp = value;
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) signatures.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) {
    throw new SignatureError('signature_invalid', 'The Stripe-Signature header has no valid timestamp (t=).');
  }
  if (signatures.length === 0) {
    throw new SignatureError('signature_invalid', 'The Stripe-Signature header has no v1 signature.');
  }
  const signedPayload = Buffer.concat([Buffer.from(`${timestamp}.`, 'utf8'), rawBody]);
  const matches = check.secrets.some((secret) => {
    const expected = createHmac('sha256', secret).update(signedPayload).digest();
    // Compare against every entry, without stopping early, so timing reveals nothing.
    return signatures.reduce((found, signature) => timingSafeEqual(expected, signature) || found, false);
  });
  if (!matches) {
    throw new SignatureError('signature_invalid', 'No signature matches the payload for any configured secret.');
  }
  if (Math.abs(check.nowSeconds - Number(timestamp)) > check.toleranceSeconds) {
    throw new SignatureError(
      'timestamp_out_of_tolerance',
      `The signature timestamp is more than ${check.toleranceSeconds} s away from the server clock.`,
    );
  }
}
