import type { Db } from '../platform/db';

/** Unix seconds of the newest Stripe event a reconcile run has read, per listing. */
export async function readCheckpoint(db: Db, checkpointName: string): Promise<number | null> {
  const { rows } = await db.query<{ created_up_to: number }>(
    'SELECT created_up_to::float8 AS created_up_to FROM reconcile_checkpoints WHERE name = $1',
    [checkpointName],
  );
  return rows[0]?.created_up_to ?? null;
}

export async function writeCheckpoint(db: Db, checkpointName: string, createdUpTo: number): Promise<void> {
  // GREATEST: a slower concurrent run (the schedule and an operator's request) never moves it back.
  await db.query(
    `INSERT INTO reconcile_checkpoints (name, created_up_to) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE
       SET created_up_to = GREATEST(reconcile_checkpoints.created_up_to, EXCLUDED.created_up_to), updated_at = now()`,
    [checkpointName, createdUpTo],
  );
}

/** The names of the checkpoints that start with `prefix`: the listings reconcile already keeps. */
export async function checkpointNames(db: Db, prefix: string): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    "SELECT name FROM reconcile_checkpoints WHERE starts_with(name, $1) ORDER BY name",
    [prefix],
  );
  return rows.map((row) => row.name);
}
