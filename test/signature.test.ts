import { createHmac } from 'node:crypto';
import { SignatureError, verifySignature } from '../src/intake/signature';

const secret = 'whsec_unit';
const body = Buffer.from('{"id":"evt_1"}');
const now = 1_800_000_000;

function sign(timestamp: number, payload = body, key = secret): string {
  return createHmac('sha256', key).update(`${timestamp}.`).update(payload).digest('hex');
}

function codeOf(fn: () => void): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof SignatureError) return err.code;
    throw err;
  }
  return undefined;
}

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

  test('when the header is blank, then the signature is missing', () => {
    expect(codeOf(() => verifySignature(body, '  ', check))).toBe('signature_missing');
  });

  test('when no secret is configured, then nothing passes', () => {
    expect(codeOf(() => verifySignature(body, `t=${now},v1=${sign(now)}`, { ...check, secrets: [] }))).toBe('signature_invalid');
  });
});
