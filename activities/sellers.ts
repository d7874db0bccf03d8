import { log } from '@temporalio/activity';
import type Stripe from 'stripe';
import type { Config } from '../src/platform/config';
import type { Queryable } from '../src/platform/db';
import { addressLines, type IssuerNames } from '../src/platform/invoice';
import { unlessRefused } from '../src/platform/stripe-client';
import type { Seller } from '../src/platform/pdf';
import type { Json } from '../src/platform/stripe-event';
import { connectedAccountOf, rememberConnectedAccount, type ConnectedAccount } from '../src/store/connected-accounts';
import { connectedAccountDetails } from './stripe-objects';

type SellerSettings = Pick<Config, 'SELLER_NAME' | 'SELLER_ADDRESS' | 'SELLER_EMAIL' | 'SELLER_TAX_ID' | 'SELLER_LOGO_PATH'>;

/** Where a connected account's details come from: the stored ones, and with a key Stripe's API. */
export interface SellerSources {
  db: Queryable;
  stripe?: Stripe;
}

/**
 * With a key, an account no `account.updated` has described yet (one connected before this
 * service listened) is asked of Stripe once and remembered, so that its documents and emails
 * carry its name rather than its id. An answer Stripe refuses (an account that disconnected, an
 * unknown id) leaves the invoice's names; Stripe away fails the step, which is retried.
 */
async function lookUpConnectedAccount(db: Queryable, stripe: Stripe, id: string): Promise<ConnectedAccount | undefined> {
  const account = await unlessRefused(stripe.accounts.retrieve(id), (err) =>
    log.warn('connected account not looked up: Stripe refused', { account: id, error: err.message }),
  );
  if (!account) return undefined;
  const details = { id, ...connectedAccountDetails(account as unknown as Json) };
  await rememberConnectedAccount(db, details, new Date());
  return details;
}

/**
 * Who sells, for documents and the emails customers get. The platform's own sales: its
 * `SELLER_*` settings. A connected account's (Connect direct charges: the event names the
 * account; or a platform's invoice presented as the account, `on_behalf_of`): that account as its
 * latest `account.updated` described it (or, with a key, as Stripe answers for it), else as its
 * invoice names it, else its id; never the platform, whose address, email, tax id and logo are
 * not its.
 */
export async function sellerOf({ db, stripe }: SellerSources, settings: SellerSettings, account: string | null, issuer?: IssuerNames): Promise<Seller> {
  const seller = account ?? issuer?.presentedAs ?? null;
  if (!seller) {
    return { name: settings.SELLER_NAME, address: settings.SELLER_ADDRESS, email: settings.SELLER_EMAIL, taxId: settings.SELLER_TAX_ID, logoPath: settings.SELLER_LOGO_PATH };
  }
  const stored = (await connectedAccountOf(db, seller)) ?? (stripe ? await lookUpConnectedAccount(db, stripe, seller) : undefined);
  const address = addressLines(stored?.support_address);
  return {
    name: stored?.business_name ?? stored?.display_name ?? issuer?.accountName ?? seller,
    address: address.length > 0 ? address.join(', ') : (stored?.country ?? issuer?.accountCountry ?? ''),
    email: stored?.support_email ?? undefined,
  };
}

/** The name an email to a customer of `account` (null: the platform's) is signed with. */
export async function sellerNameOf(sources: SellerSources, settings: SellerSettings, account: string | null, issuer?: IssuerNames): Promise<string> {
  return (await sellerOf(sources, settings, account, issuer)).name;
}
