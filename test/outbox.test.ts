import { Client } from 'pg';
import { CancelledFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { sendOnce } from '../activities/outbox';
import { createMailer, type Mailer } from '../src/platform/mailer';
import { withdrawOutboxRow } from '../src/store/outbox';
import { startTestSmtp } from './support/smtp';
import { createTestDatabase, type TestDatabase } from './support/database';
import { until } from './support/until';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(() => database?.drop());

const email = (key: string) => ({ key, to: 'someone@example.com', subject: 'Receipt', text: 'Thank you.' });

test('when the database connection is lost after the mail server took the message, then it is recorded as sent and never sent again', async () => {
  const { db } = database;
  const sent: string[] = [];
  // The mail server accepts; then PostgreSQL drops every connection of the pool (a restart, a failover).
  const mailer: Mailer = {
    async sendMail(message) {
      sent.push(message.messageId);
      const admin = new Client({ connectionString: database.url });
      await admin.connect();
      const { rows } = await admin.query(
        `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS terminated FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      );
      await admin.end();
      expect(rows[0].terminated).toBeGreaterThan(0);
    },
  };

  const first = await sendOnce(db, mailer, 'billing@example.com', email('payment:1:documents:customer'));
  const second = await sendOnce(db, mailer, 'billing@example.com', email('payment:1:documents:customer'));

  expect([first, second]).toEqual(['sent', 'already_sent']);
  expect(sent).toHaveLength(1);
  const { rows } = await db.query(`SELECT status FROM email_outbox WHERE key = 'payment:1:documents:customer'`);
  expect(rows).toEqual([{ status: 'sent' }]);
});

test('when the same email is sent concurrently, then the mail server gets it once, and the other attempts fail retryably and then find it sent', async () => {
  const sent: string[] = [];
  const mailer: Mailer = {
    async sendMail(message) {
      sent.push(message.messageId);
      await new Promise((resolve) => setTimeout(resolve, 200));
    },
  };
  const send = () => sendOnce(database.db, mailer, 'billing@example.com', email('notice:x:1'));

  const attempts = await Promise.allSettled([send(), send(), send()]);

  expect(attempts.filter((a) => a.status === 'fulfilled').map((a) => a.value)).toEqual(['sent']);
  for (const attempt of attempts.filter((a) => a.status === 'rejected')) {
    expect(attempt.reason).toMatchObject({ type: 'EmailBeingSent', nonRetryable: false });
  }
  expect(await send()).toBe('already_sent');
  expect(sent).toHaveLength(1);
});

test('when a sending attempt fails, then it gives its claim back and the retry sends at once', async () => {
  let calls = 0;
  const mailer: Mailer = {
    async sendMail() {
      calls += 1;
      if (calls === 1) throw new Error('connection reset');
    },
  };
  const send = () => sendOnce(database.db, mailer, 'billing@example.com', email('notice:y:1'));

  await expect(send()).rejects.toThrow('connection reset');

  expect(await send()).toBe('sent');
  expect(calls).toBe(2);
});

describe('withdrawing an email that must not go out any more', () => {
  const failingOnce = (): Mailer => {
    let calls = 0;
    return {
      async sendMail() {
        calls += 1;
        if (calls === 1) throw new Error('connection reset');
      },
    };
  };

  test('when it waits after a failed attempt, then it is withdrawn: its row is gone and a later attempt to send it would start over', async () => {
    await expect(sendOnce(database.db, failingOnce(), 'billing@example.com', email('withdraw:waiting'))).rejects.toThrow('connection reset');

    expect(await withdrawOutboxRow(database.db, 'withdraw:waiting')).toBe(true);

    const { rows } = await database.db.query(`SELECT 1 FROM email_outbox WHERE key = 'withdraw:waiting'`);
    expect(rows).toEqual([]);
  });

  test('when no attempt was made, then it is withdrawn', async () => {
    expect(await withdrawOutboxRow(database.db, 'withdraw:never-tried')).toBe(true);
  });

  test('when it went out, then it is not withdrawn and stays recorded as sent', async () => {
    await sendOnce(database.db, { sendMail: async () => undefined }, 'billing@example.com', email('withdraw:sent'));

    expect(await withdrawOutboxRow(database.db, 'withdraw:sent')).toBe(false);

    const { rows } = await database.db.query(`SELECT status FROM email_outbox WHERE key = 'withdraw:sent'`);
    expect(rows).toEqual([{ status: 'sent' }]);
  });

  test('when an attempt is talking to the mail server, then it is not withdrawn: that attempt may still send it', async () => {
    let answer: () => void = () => undefined;
    const slow: Mailer = { sendMail: () => new Promise<void>((resolve) => (answer = resolve)) };
    const sending = sendOnce(database.db, slow, 'billing@example.com', email('withdraw:in-flight'));
    await until(async () => (await database.db.query(`SELECT 1 FROM email_outbox WHERE key = 'withdraw:in-flight'`)).rowCount === 1);

    expect(await withdrawOutboxRow(database.db, 'withdraw:in-flight')).toBe(false);

    answer();
    expect(await sending).toBe('sent');
  });
});

describe('SMTP_REQUIRE_TLS', () => {
  const message = { from: 'billing@example.com', to: 'tls@example.com', subject: 'Receipt', text: 'Thank you.', messageId: '<tls@stripe-workflows>' };

  test('when TLS is required and the mail server cannot upgrade the connection, then nothing is sent and the attempt fails', async () => {
    const smtp = await startTestSmtp();
    const mailer = createMailer(smtp.url, { requireTLS: true, timeoutMs: 2_000 });
    try {
      await expect(mailer.sendMail(message)).rejects.toThrow(/STARTTLS/i);
      expect(smtp.messages).toHaveLength(0);
    } finally {
      mailer.close();
      await smtp.stop();
    }
  });

  test('when TLS is not required, then the same server gets the message', async () => {
    const smtp = await startTestSmtp();
    const mailer = createMailer(smtp.url, { timeoutMs: 2_000 });
    try {
      await mailer.sendMail(message);
      expect(smtp.messages).toHaveLength(1);
    } finally {
      mailer.close();
      await smtp.stop();
    }
  });
});

describe('SMTP connections', () => {
  const message = (n: number) => ({ from: 'billing@example.com', to: 'pool@example.com', subject: `Receipt ${n}`, text: 'Thank you.', messageId: `<pool.${n}@stripe-workflows>` });

  test('when several emails go out one after another, then they share one connection instead of opening one each', async () => {
    const smtp = await startTestSmtp();
    const mailer = createMailer(smtp.url, { timeoutMs: 2_000 });
    try {
      for (let n = 1; n <= 5; n += 1) await mailer.sendMail(message(n));

      expect(smtp.messages.map((mail) => mail.subject)).toEqual(['Receipt 1', 'Receipt 2', 'Receipt 3', 'Receipt 4', 'Receipt 5']);
      expect(smtp.connections()).toBe(1);
    } finally {
      mailer.close();
      await smtp.stop();
    }
  });

  test('when the mail server has closed the idle pooled connection, then the next email opens a new one and is sent', async () => {
    const smtp = await startTestSmtp({ idleTimeoutMs: 200 });
    const mailer = createMailer(smtp.url, { timeoutMs: 2_000 });
    try {
      await mailer.sendMail(message(1));
      await new Promise((resolve) => setTimeout(resolve, 600));

      await mailer.sendMail(message(2));

      expect(smtp.messages.map((mail) => mail.subject)).toEqual(['Receipt 1', 'Receipt 2']);
      expect(smtp.connections()).toBe(2);
    } finally {
      mailer.close();
      await smtp.stop();
    }
  });
});

test('when the mail server answers at once, then the sending activity heartbeats nothing (no write on the Temporal server)', async () => {
  const environment = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  environment.on('heartbeat', (details) => heartbeats.push(details));

  await environment.run(() => sendOnce(database.db, { sendMail: async () => undefined }, 'billing@example.com', email('notice:quick:1')));

  expect(heartbeats).toEqual([]);
});

test('when the sending activity is cancelled while the mail server has not answered, then it stops waiting, heartbeats meanwhile, and keeps its claim', async () => {
  const environment = new MockActivityEnvironment();
  const heartbeats: unknown[] = [];
  environment.on('heartbeat', (details) => heartbeats.push(details));
  const mailer: Mailer = { sendMail: () => new Promise(() => undefined) };

  const attempt = environment.run(() => sendOnce(database.db, mailer, 'billing@example.com', email('notice:cancelled:1')));
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  environment.cancel();

  await expect(attempt).rejects.toBeInstanceOf(CancelledFailure);
  expect(heartbeats.length).toBeGreaterThan(0);
  const retry = sendOnce(database.db, { sendMail: async () => undefined }, 'billing@example.com', email('notice:cancelled:1'));
  await expect(retry).rejects.toMatchObject({ type: 'EmailBeingSent' });
});
