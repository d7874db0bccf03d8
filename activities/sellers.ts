import type { Config } from '../src/platform/config';
import type { Queryable } from '../src/platform/db';
import { addressLines, type IssuerNames } from '../src/platform/invoice';
import type { Seller } from '../src/platform/pdf';
import { connectedAccountOf } from '../src/store/connected-accounts';

type SellerSettings = Pick<Config, 'SELLER_NAME' | 'SELLER_ADDRESS' | 'SELLER_EMAIL' | 'SELLER_TAX_ID' | 'SELLER_LOGO_PATH'>;

/**
 * Who sells, for documents and the emails customers get. The platform's own sales: its
 * `SELLER_*` settings. A connected account's (Connect direct charges: the event names the
 * account; or a platform's invoice presented as the account, `on_behalf_of`): that account as its
 * latest `account.updated` described it, else as its invoice names it, else its id; never the
 * platform, whose address, email, tax id and logo are not its.
 */
export async function sellerOf(db: Queryable, settings: SellerSettings, account: string | null, issuer?: IssuerNames): Promise<Seller> {
  const seller = account ?? issuer?.presentedAs ?? null;
  if (!seller) {
    return { name: settings.SELLER_NAME, address: settings.SELLER_ADDRESS, email: settings.SELLER_EMAIL, taxId: settings.SELLER_TAX_ID, logoPath: settings.SELLER_LOGO_PATH };
  }
  const stored = await connectedAccountOf(db, seller);
  const address = addressLines(stored?.support_address);
  return {
    name: stored?.business_name ?? stored?.display_name ?? issuer?.accountName ?? seller,
    address: address.length > 0 ? address.join(', ') : (stored?.country ?? issuer?.accountCountry ?? ''),
    email: stored?.support_email ?? undefined,
  };
}

/** The name an email to a customer of `account` (null: the platform's) is signed with. */
export async function sellerNameOf(db: Queryable, settings: SellerSettings, account: string | null, issuer?: IssuerNames): Promise<string> {
  return (await sellerOf(db, settings, account, issuer)).name;
}
