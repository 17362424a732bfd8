import { defaultClients } from '../shared/clients';
import { readReportFailureConfig } from '../shared/config';
import { createObservability } from '../shared/observability';
import { reportFailure, type FailureInput, type FailureReport } from './report-failure';

const config = readReportFailureConfig();
const { logger, metrics } = createObservability('imagegen-report-failure');

/** ReportFailure task (the workflow's Catch): publishes `Image Generation Failed`, returns `{code, message}`. */
export const handler = async (input: FailureInput): Promise<FailureReport> => {
  try {
    return await reportFailure(input, { events: defaultClients().events, config, clock: Date, logger, metrics });
  } finally {
    metrics.publishStoredMetrics();
  }
};
