/** The dated price table (prices.json, us-east-1 on-demand) with its types. */
import table from './prices.json';

export type PriceTable = typeof table;
export const PRICES: PriceTable = table;

/** On-demand $/hour of a SageMaker instance type, or undefined when the table has no entry. */
export function instancePricePerHour(instanceType: string): number | undefined {
  return (PRICES.sagemakerInstancesPerHour as Record<string, number>)[instanceType];
}
