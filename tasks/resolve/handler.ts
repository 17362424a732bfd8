import { defaultClients } from '../shared/clients';
import { readResolveConfig } from '../shared/config';
import { createObservability, publishIfAny } from '../shared/observability';
import { resolve, type ResolveInput, type ResolveOutcome } from './resolve';

const config = readResolveConfig();
const { logger, metrics, scalingMetrics } = createObservability('imagegen-resolve');

/** Resolve task (`lambda:invoke.waitForTaskToken`): its return value is ignored; the token carries the result. */
export const handler = async (input: ResolveInput): Promise<ResolveOutcome> => {
  try {
    return await resolve(input, { ...defaultClients(), config, clock: Date, logger, metrics, scalingMetrics });
  } finally {
    metrics.publishStoredMetrics();
    publishIfAny(scalingMetrics);
  }
};
