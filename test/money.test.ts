import { decimalsOf, formatAmount } from '../src/platform/money';

describe('amounts in minor units', () => {
  test.each([
    [123456, 'usd', '$1,234.56'],
    [1000, 'jpy', '¥1,000'],
    [1500, 'kwd', 'KWD\u00a01.500'], // Intl separates a currency code with a no-break space
    [5, 'eur', '€0.05'],
    [-250, 'eur', '-€2.50'],
  ])('when %i %s is formatted, then it reads %s', (amount, currency, shown) => {
    expect(formatAmount(amount, currency)).toBe(shown);
  });

  test('when a currency has no minor unit, then it has zero decimals, and three-decimal currencies have three', () => {
    expect([decimalsOf('JPY'), decimalsOf('krw'), decimalsOf('kwd'), decimalsOf('bhd'), decimalsOf('gbp')]).toEqual([0, 0, 3, 3, 2]);
  });

  test('when an amount is not an integer of minor units, then formatting refuses it', () => {
    expect(() => formatAmount(12.5, 'usd')).toThrow(RangeError);
  });
});
