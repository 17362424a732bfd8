/**
 * What the console reads from an execution's history: the request, the cache outcome that Resolve
 * reported (hit, started = miss, joined), the states entered, and the result event it sent.
 * The events are shaped as GetExecutionHistory returns them for imagegen-request.
 */
import type { HistoryEvent } from '@aws-sdk/client-sfn';
import { executionFacts } from '../../../local/console/history';

const ARN = 'arn:aws:states:us-east-1:000000000000:execution:imagegen-request:e1';
const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
const input = JSON.stringify({ 'detail-type': 'Image Generation Requested', detail: { requestId: 'r-1', prompt: 'a kite' } });
const lambdaResponse = (payload: unknown) => JSON.stringify({ ExecutedVersion: '$LATEST', Payload: payload, StatusCode: 200 });
const detail = { requestId: 'r-1', cacheKey: 'k', cacheHit: false, image: { bucket: 'imagegen-images', key: 'images/k/original.png' } };

function succeeded(outcome: unknown): HistoryEvent[] {
  return [
    { id: 1, type: 'ExecutionStarted', timestamp: at(0), executionStartedEventDetails: { input } },
    { id: 2, type: 'TaskStateEntered', timestamp: at(0), stateEnteredEventDetails: { name: 'Resolve', input } },
    { id: 3, type: 'TaskScheduled', timestamp: at(0), taskScheduledEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', region: 'us-east-1', parameters: '{}' } },
    { id: 4, type: 'TaskSubmitted', timestamp: at(1), taskSubmittedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: lambdaResponse(outcome) } },
    { id: 5, type: 'TaskSucceeded', timestamp: at(5), taskSucceededEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', output: JSON.stringify(detail) } },
    { id: 6, type: 'TaskStateExited', timestamp: at(5), stateExitedEventDetails: { name: 'Resolve' } },
    { id: 7, type: 'TaskStateEntered', timestamp: at(5), stateEnteredEventDetails: { name: 'Notify' } },
    {
      id: 8,
      type: 'TaskScheduled',
      timestamp: at(5),
      taskScheduledEventDetails: { resourceType: 'events', resource: 'putEvents', region: 'us-east-1', parameters: JSON.stringify({ Entries: [{ EventBusName: 'arn:aws:events:us-east-1:000000000000:event-bus/imagegen', Source: 'imagegen', DetailType: 'Image Generation Succeeded', Detail: detail }] }) },
    },
    { id: 9, type: 'TaskSucceeded', timestamp: at(6), taskSucceededEventDetails: { resourceType: 'events', resource: 'putEvents', output: '{"Entries":[{"EventId":"ev-1"}],"FailedEntryCount":0}' } },
    { id: 10, type: 'TaskStateExited', timestamp: at(6), stateExitedEventDetails: { name: 'Notify' } },
    { id: 11, type: 'ExecutionSucceeded', timestamp: at(6), executionSucceededEventDetails: { output: JSON.stringify(detail) } },
  ];
}

describe('executionFacts', () => {
  it('reads a miss: the request, the inference it started, the path and the Succeeded event with its EventId', () => {
    const facts = executionFacts(ARN, succeeded({ outcome: 'started', cacheKey: 'k', inferenceId: 'inf-1' }));
    expect(facts).toMatchObject({ requestId: 'r-1', cache: 'miss', inferenceId: 'inf-1', cacheKey: 'k', statesEntered: ['Resolve', 'Notify'] });
    expect(facts.failedState).toBeUndefined();
    expect(facts.result).toEqual({ detailType: 'Image Generation Succeeded', eventId: 'ev-1', time: at(6), executionArn: ARN, detail });
  });

  it('tells a joined inference and a cache hit apart', () => {
    expect(executionFacts(ARN, succeeded({ outcome: 'joined', cacheKey: 'k' })).cache).toBe('joined');
    expect(executionFacts(ARN, succeeded({ outcome: 'hit', cacheKey: 'k' })).cache).toBe('hit');
  });

  it('reads a failure through ReportFailure as an Image Generation Failed with the Fail state\'s code and message', () => {
    const events: HistoryEvent[] = [
      ...succeeded({ outcome: 'started' }).slice(0, 3),
      { id: 4, type: 'TaskFailed', timestamp: at(2), taskFailedEventDetails: { resourceType: 'lambda', resource: 'invoke.waitForTaskToken', error: 'InvalidRequest', cause: '{"errorMessage":"detail.steps must be an integer from 1 to 100 (got 250)"}' } },
      { id: 5, type: 'TaskStateExited', timestamp: at(2), stateExitedEventDetails: { name: 'Resolve' } },
      { id: 6, type: 'TaskStateEntered', timestamp: at(2), stateEnteredEventDetails: { name: 'ReportFailure' } },
      { id: 7, type: 'TaskStateExited', timestamp: at(3), stateExitedEventDetails: { name: 'ReportFailure' } },
      { id: 8, type: 'FailStateEntered', timestamp: at(3), stateEnteredEventDetails: { name: 'Failed' } },
      { id: 9, type: 'ExecutionFailed', timestamp: at(3), executionFailedEventDetails: { error: 'InvalidRequest', cause: 'detail.steps must be an integer from 1 to 100 (got 250)' } },
    ];
    const facts = executionFacts(ARN, events);
    expect(facts.statesEntered).toEqual(['Resolve', 'ReportFailure', 'Failed']);
    expect(facts.failedState).toBeUndefined();
    expect(facts.result).toEqual({
      detailType: 'Image Generation Failed',
      time: at(3),
      executionArn: ARN,
      detail: { requestId: 'r-1', error: { code: 'InvalidRequest', message: 'detail.steps must be an integer from 1 to 100 (got 250)' } },
    });
  });

  it('sends no result for an execution stopped inside a state', () => {
    const events: HistoryEvent[] = [
      ...succeeded({ outcome: 'started' }).slice(0, 4),
      { id: 5, type: 'ExecutionAborted', timestamp: at(4), executionAbortedEventDetails: { error: 'Console.Stopped' } },
    ];
    const facts = executionFacts(ARN, events);
    expect(facts.result).toBeUndefined();
    expect(facts.statesEntered).toEqual(['Resolve']);
  });
});
