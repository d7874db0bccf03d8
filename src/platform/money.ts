/**
 * Amounts are integer minor units with a currency everywhere; this is the one place that knows
 * how many decimals a currency's minor unit has, following Stripe's list (which differs from
 * ISO 4217 for a few currencies).
 */
const zeroDecimal = new Set([
  'bif', 'clp', 'djf', 'gnf', 'jpy', 'kmf', 'krw', 'mga', 'pyg', 'rwf', 'ugx', 'vnd', 'vuv', 'xaf', 'xof', 'xpf',
]);
const threeDecimal = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** A three-letter currency code, in either case: what the formatter and Stripe's amounts take. */
export function isCurrencyCode(value: unknown): value is string {
  return typeof value === 'string' && /^[a-z]{3}$/i.test(value);
}

export function decimalsOf(currency: string): number {
  const code = currency.toLowerCase();
  if (zeroDecimal.has(code)) return 0;
  if (threeDecimal.has(code)) return 3;
  return 2;
}

const formats = new Map<string, Intl.NumberFormat>();

/** `formatAmount(123456, 'usd')` → `$1,234.56`; `formatAmount(1500, 'kwd')` → `KWD 1.500`. */
export function formatAmount(minorUnits: number, currency: string, locale = 'en-US'): string {
  if (!Number.isSafeInteger(minorUnits)) throw new RangeError(`amount ${minorUnits} is not an integer of minor units`);
  const decimals = decimalsOf(currency);
  const key = `${locale}:${currency.toUpperCase()}`;
  // Building a NumberFormat costs far more than using one; documents format dozens of amounts.
  let format = formats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency: currency.toUpperCase(),
      currencyDisplay: 'symbol',
      minimumFractionDigits: decimals,
      maximumFractionDigits: decimals,
    });
    formats.set(key, format);
  }
  return format.format(minorUnits / 10 ** decimals);
}

/** `decimalAmount(123456, 'usd')` → `1234.56`, `decimalAmount(1000, 'jpy')` → `1000`: exact, for exports. */
export function decimalAmount(minorUnits: number, currency: string): string {
  if (!Number.isSafeInteger(minorUnits)) throw new RangeError(`amount ${minorUnits} is not an integer of minor units`);
  const decimals = decimalsOf(currency);
  const digits = String(Math.abs(minorUnits)).padStart(decimals + 1, '0');
  const whole = decimals === 0 ? digits : `${digits.slice(0, -decimals)}.${digits.slice(-decimals)}`;
  return minorUnits < 0 ? `-${whole}` : whole;
}
