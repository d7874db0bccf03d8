import { sendOnce } from '../activities/outbox';
import { type Mailer } from '../src/platform/mailer';
import { createTestDatabase, type TestDatabase } from './support/database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(() => database?.drop());

const email = (key: string) => ({ key, to: 'someone@example.com', subject: 'Receipt', text: 'Thank you.' });

test('when the database connection is lost after the mail server took the message, then it is recorded as sent and never sent again', async () => {
  const { db } = database;
  const sent: string[] = [];
  // The mail server accepts; then PostgreSQL drops the connection holding the outbox row (a restart, a failover).
  const mailer: Mailer = {
    async sendMail(message) {
      sent.push(message.messageId);
      await db.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid() AND state = 'idle in transaction'`,
      );
    },
  };

  const first = await sendOnce(db, mailer, 'billing@example.com', email('payment:1:documents:customer'));
  const second = await sendOnce(db, mailer, 'billing@example.com', email('payment:1:documents:customer'));

  expect([first, second]).toEqual(['sent', 'already_sent']);
  expect(sent).toHaveLength(1);
  const { rows } = await db.query(`SELECT status FROM email_outbox WHERE key = 'payment:1:documents:customer'`);
  expect(rows).toEqual([{ status: 'sent' }]);
});

test('when the same email is sent concurrently, then the mail server gets it once', async () => {
  const sent: string[] = [];
  const mailer: Mailer = { sendMail: async (message) => void sent.push(message.messageId) };

  const answers = await Promise.all([1, 2, 3].map(() => sendOnce(database.db, mailer, 'billing@example.com', email('notice:x:1'))));

  expect(answers.sort()).toEqual(['already_sent', 'already_sent', 'sent']);
  expect(sent).toHaveLength(1);
});
