import { journalCsv } from '../src/platform/finance-report';
import { dayFigures } from '../src/store/finance';
import { journalBetween, platformBooks } from '../src/store/ledger';
import { ApplicationFailure } from '@temporalio/activity';
import { FailureType, isCalendarDay } from '../workflows/contracts';
import type { ActivityDependencies } from './dependencies';
import { dailyDigestEmail } from './emails';
import { sendOnce } from './outbox';

export function financeDigestActivities({ db, mailer, config }: ActivityDependencies) {
  return {
    /** Emails finance one day's figures of the platform's books with their journal attached; once per day. */
    async emailDailyDigest(day: string): Promise<'sent' | 'already_sent'> {
      if (!isCalendarDay(day)) throw ApplicationFailure.nonRetryable(`digest day ${JSON.stringify(day)} is not a day like 2026-11-30`, FailureType.InvalidInput);
      const from = new Date(`${day}T00:00:00Z`);
      const to = new Date(from.getTime() + 24 * 3600 * 1000);
      const [figures, journal] = await Promise.all([dayFigures(db, from, to), journalBetween(db, from, to, platformBooks)]);
      return sendOnce(db, mailer, config.MAIL_FROM, {
        key: `digest:${day}`,
        to: config.FINANCE_EMAIL,
        ...dailyDigestEmail(day, figures),
        attachments: [{ filename: `journal-${day}.csv`, content: Buffer.from(journalCsv(journal), 'utf8'), contentType: 'text/csv' }],
      });
    },
  };
}
