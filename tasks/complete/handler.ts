import type { SNSEvent } from 'aws-lambda';
import { defaultClients } from '../shared/clients';
import { readCompleteConfig } from '../shared/config';
import { createObservability } from '../shared/observability';
import { complete, type CompleteSummary } from './complete';

const config = readCompleteConfig();
const { logger, metrics } = createObservability('imagegen-complete');

/** Complete task: one SNS notification (success or error topic) from the async endpoint. */
export const handler = async (event: SNSEvent): Promise<CompleteSummary[]> => {
  try {
    return await complete(event, { ...defaultClients(), config, clock: Date, logger, metrics });
  } finally {
    metrics.publishStoredMetrics();
  }
};
