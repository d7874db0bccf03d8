import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../platform/db';

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');

/** Creates a token for the customer and returns it; only its hash is stored. */
export async function issuePasswordToken(db: Db, customerId: string, email: string, ttlHours: number): Promise<string> {
  const token = randomBytes(32).toString('base64url');
  await db.query(
    `INSERT INTO password_tokens (token_hash, customer_id, email, expires_at)
     VALUES ($1, $2, $3, now() + make_interval(hours => $4))`,
    [hashOf(token), customerId, email, ttlHours],
  );
  return token;
}

/** Uses a token once: the customer it was for, or undefined when unknown, used or expired. */
export async function redeemPasswordToken(db: Db, token: string): Promise<string | undefined> {
  const { rows } = await db.query(
    `UPDATE password_tokens SET used_at = now()
      WHERE token_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING customer_id`,
    [hashOf(token)],
  );
  return rows[0]?.customer_id;
}
