/**
 * Usage aggregation: totals by dimension instead of raw rows (like Telnyx usage_reports). Which dimensions
 * and metrics make sense depends on the product: a message has parts and no call duration, a call has a
 * hangup cause and an answer rate.
 */
import type { Product } from './cdr-columns';

export const USAGE_DIMENSIONS = ['day', 'month', 'account_id', 'product', 'direction', 'status', 'country', 'network', 'currency', 'hangup_cause'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

export const USAGE_METRICS = ['count', 'duration', 'billsec', 'total_price', 'parts', 'answered', 'answer_rate'] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

/** The dimensions a usage report of `product` can group by. */
export function usageDimensionsFor(product: Product): readonly UsageDimension[] {
  return product === 'VOICE-CALL' ? USAGE_DIMENSIONS : USAGE_DIMENSIONS.filter((name) => name !== 'hangup_cause');
}

/** The metrics a usage report of `product` can compute. */
export function usageMetricsFor(product: Product): readonly UsageMetric[] {
  return product === 'VOICE-CALL'
    ? ['count', 'duration', 'billsec', 'total_price', 'answered', 'answer_rate']
    : ['count', 'total_price', 'parts'];
}

/** Dimensions when a usage request names none: one row per day. */
export const DEFAULT_USAGE_DIMENSIONS: readonly UsageDimension[] = ['day'];
/** Metrics when a usage request names none. */
export const DEFAULT_USAGE_METRICS: readonly UsageMetric[] = ['count', 'total_price'];

/** Metrics whose values are integers (the others are exact decimals, written as strings in JSON). */
export const INTEGER_USAGE_METRICS: ReadonlySet<string> = new Set(['count', 'duration', 'billsec', 'parts', 'answered']);
