import type { ScheduledEvent } from 'aws-lambda';
import { defaultClients } from '../shared/clients';
import { readSettleConfig } from '../shared/config';
import { createObservability, publishIfAny } from '../shared/observability';
import { reconcile, type ReconcileSummary } from './reconcile';

const config = readSettleConfig();
const { logger, metrics, scalingMetrics } = createObservability('imagegen-reconcile');

/** Scheduled every minute by EventBridge: settles the inference attempts whose notification never came. */
export const handler = async (event: Partial<ScheduledEvent>): Promise<ReconcileSummary> => {
  try {
    return await reconcile(event, { ...defaultClients(), config, clock: Date, logger, metrics, scalingMetrics });
  } finally {
    // Usually nothing was due: no empty metric document every minute.
    publishIfAny(metrics);
    publishIfAny(scalingMetrics);
  }
};
