import { defaultClients } from '../shared/clients';
import { readResolveConfig } from '../shared/config';
import { createObservability } from '../shared/observability';
import { resolve, type ResolveInput, type ResolveOutcome } from './resolve';

const config = readResolveConfig();
const { logger, metrics } = createObservability('imagegen-resolve');

/** Resolve task (`lambda:invoke.waitForTaskToken`): its return value is ignored; the token carries the result. */
export const handler = async (input: ResolveInput): Promise<ResolveOutcome> => {
  try {
    return await resolve(input, { ...defaultClients(), config, clock: Date, logger, metrics });
  } finally {
    metrics.publishStoredMetrics();
  }
};
