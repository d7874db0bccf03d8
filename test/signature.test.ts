import { createHmac } from 'node:crypto';
import { SignatureError, verifySignature } from '../src/intake/signature';

const secret = 'whsec_unit';
const body = Buffer.from('{"id":"evt_1"}');
const now = 1_800_000_000;

function sign(timestamp: number, payload = body, key = secret): string {
  return createHmac('sha256', key).update(`${timestamp}.`).update(payload).digest('hex');
}

function errorOf(fn: () => void): SignatureError | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignatureError) return err;
    throw err;
  }
  return undefined;
}

const codeOf = (fn: () => void) => errorOf(fn)?.code;

const check = { secrets: [secret], toleranceSeconds: 300, nowSeconds: now };

describe('verifySignature', () => {
  test('when the signature matches, then it passes', () => {
    expect(codeOf(() => verifySignature(body, `t=${now},v1=${sign(now)}`, check))).toBeUndefined();
  });

  test('when the timestamp is exactly at the tolerance, then it passes', () => {
    expect(codeOf(() => verifySignature(body, `t=${now - 300},v1=${sign(now - 300)}`, check))).toBeUndefined();
  });

  test('when the timestamp is one second past the tolerance either way, then it fails', () => {
    expect(codeOf(() => verifySignature(body, `t=${now - 301},v1=${sign(now - 301)}`, check))).toBe('timestamp_out_of_tolerance');
    expect(codeOf(() => verifySignature(body, `t=${now + 301},v1=${sign(now + 301)}`, check))).toBe('timestamp_out_of_tolerance');
  });

  test('when a signature was made for another timestamp, then it fails', () => {
    expect(codeOf(() => verifySignature(body, `t=${now},v1=${sign(now - 1)}`, check))).toBe('signature_invalid');
  });

  test('when a v1 value is not 64 hex characters, then it is not compared', () => {
    expect(codeOf(() => verifySignature(body, `t=${now},v1=${sign(now).slice(0, 10)}`, check))).toBe('signature_invalid');
  });

  test('when the only v1 value is malformed, then the error says what a v1 value looks like', () => {
    const error = errorOf(() => verifySignature(body, `t=${now},v1=00`, check));

    expect(error?.code).toBe('signature_invalid');
    expect(error?.message).toBe('The Stripe-Signature header has no well-formed v1 signature: a v1 value is 64 hexadecimal characters (HMAC-SHA256).');
  });

  test('when there is no v1 entry at all (only v0, Stripe\'s test scheme), then the error says so', () => {
    const error = errorOf(() => verifySignature(body, `t=${now},v0=${sign(now)}`, check));

    expect(error?.code).toBe('signature_invalid');
    expect(error?.message).toBe('The Stripe-Signature header has no v1 signature.');
  });

  test('when the header holds more v1 signatures than Stripe ever sends, then the error gives the count', () => {
    const nine = Array.from({ length: 9 }, () => `v1=${sign(now)}`).join(',');

    expect(errorOf(() => verifySignature(body, `t=${now},${nine}`, check))?.message).toBe(
      'The Stripe-Signature header holds 9 v1 signatures; at most 8 are accepted.',
    );
  });

  test('when the header is blank, then the signature is missing', () => {
    expect(codeOf(() => verifySignature(body, '  ', check))).toBe('signature_missing');
  });

  test('when no secret is configured, then nothing passes', () => {
    expect(codeOf(() => verifySignature(body, `t=${now},v1=${sign(now)}`, { ...check, secrets: [] }))).toBe('signature_invalid');
  });
});
