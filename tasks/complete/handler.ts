import type { SNSEvent } from 'aws-lambda';
import { defaultClients } from '../shared/clients';
import { readSettleConfig } from '../shared/config';
import { createObservability, publishIfAny } from '../shared/observability';
import { complete, type CompleteSummary } from './complete';

const config = readSettleConfig();
const { logger, metrics, scalingMetrics } = createObservability('imagegen-complete');

/** Complete task: one SNS notification (success or error topic) from the async endpoint. */
export const handler = async (event: SNSEvent): Promise<CompleteSummary[]> => {
  try {
    return await complete(event, { ...defaultClients(), config, clock: Date, logger, metrics, scalingMetrics });
  } finally {
    metrics.publishStoredMetrics();
    publishIfAny(scalingMetrics);
  }
};
