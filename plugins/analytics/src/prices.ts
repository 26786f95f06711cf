import type { TokenCounts } from '@codepiper/analytics-contract';
import * as Type from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import shipped from './prices.json' with { type: 'json' };

const Rate = Type.Number({ minimum: 0 });

/** USD per million tokens; the same shape in `prices.json` and in `config.yaml`. */
export const PriceSchema = Type.Object(
  { input: Rate, output: Rate, cache_write_5m: Rate, cache_write_1h: Rate, cache_read: Rate },
  { additionalProperties: false },
);
export type Price = Static<typeof PriceSchema>;

export interface PriceTable {
  /** When the shipped prices were taken (YYYY-MM-DD). */
  taken: string;
  models: Readonly<Record<string, Price>>;
}

/** The list prices shipped with the plugin, with the user's overrides (a model from config replaces the shipped one). */
export function loadPrices(overrides: Readonly<Record<string, Price>>): PriceTable {
  return { taken: shipped.taken, models: { ...shipped.models, ...overrides } };
}

/** A dated snapshot id (`claude-sonnet-4-20250514`, `gpt-5-2025-08-07`) is priced as its model; nothing else is matched loosely. */
const DATE_SUFFIX = /-(\d{8}|\d{4}-\d{2}-\d{2})$/;

export function priceOf(table: PriceTable, model: string | null): Price | undefined {
  if (model === null) return undefined;
  return table.models[model] ?? table.models[model.replace(DATE_SUFFIX, '')];
}

export function costOf(tokens: TokenCounts, price: Price): number {
  return (
    (tokens.input * price.input +
      tokens.output * price.output +
      tokens.cacheWrite5m * price.cache_write_5m +
      tokens.cacheWrite1h * price.cache_write_1h +
      tokens.cacheRead * price.cache_read) /
    1_000_000
  );
}
