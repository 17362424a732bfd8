/**
 * SageMaker's TestNotification through the whole local cloud: the endpoint sends it to both topics
 * when it comes up (each start is a deployment) and after every capacity change; SNS delivers it to
 * the Complete function. The real Complete acknowledges it; a Complete that throws on it fails three
 * times per message (the invocation and Lambda's two retries), as it would on AWS before the DLQ.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCloud } from '../../../local/cloud';
import { imagegenTopology, names } from '../../../topology/imagegen-topology';
import type { Topology } from '../../../topology/topology';

jest.setTimeout(120_000);

interface Run {
  readonly log: string[];
  /** Sum of AWS/Lambda Errors of the Complete function. */
  readonly errors: number;
  readonly invocations: number;
}

async function runCloud(topology: Topology, expectedInvocations: number, act: (cloud: LocalCloud) => void = () => undefined): Promise<Run> {
  const dataDir = mkdtempSync(join(tmpdir(), 'imagegen-test-notification-'));
  const log: string[] = [];
  const cloud = await LocalCloud.start({ port: 0, dataDir, topology, lambdaAsyncRetryDelaysMs: [0, 0], log: (line) => log.push(line) });
  const sum = (metricName: string) =>
    (
      cloud.services.cloudwatch.getMetricData(
        [{ Id: 'm', MetricStat: { Metric: { Namespace: 'AWS/Lambda', MetricName: metricName, Dimensions: [{ Name: 'FunctionName', Value: names.completeFunction }] }, Period: 60, Stat: 'Sum' } }],
        Date.now() - 3_600_000,
        Date.now() + 3_600_000,
      ).MetricDataResults[0]?.Values ?? []
    ).reduce((a, b) => a + b, 0);
  try {
    act(cloud);
    // Notifications are delivered asynchronously: wait for every attempt and retry, then a little more.
    const deadline = Date.now() + 60_000;
    while ((sum('Invocations') < expectedInvocations || cloud.services.lambda.scheduledRetries > 0) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    await cloud.services.lambda.idle();
    return { log, errors: sum('Errors'), invocations: sum('Invocations') };
  } finally {
    await cloud.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const strictComplete = (): Topology => {
  const topology = imagegenTopology();
  return {
    ...topology,
    functions: topology.functions.map((f) => (f.name === names.completeFunction ? { ...f, entry: 'test/local/sagemaker/fixtures/strict-complete.ts' } : f)),
  };
};

describe("SageMaker's TestNotification in the local cloud", () => {
  it('fails a Complete that throws on it: each of the two messages is tried three times and dropped', async () => {
    const run = await runCloud(strictComplete(), 6);
    expect(run.invocations).toBe(6);
    expect(run.errors).toBe(6);
    expect(run.log.filter((line) => line.includes(names.completeFunction) && line.includes('asynchronous invocation dropped after 3 attempts'))).toHaveLength(2);
  });

  it('is acknowledged by the real Complete, at start and after a capacity change, with no error', async () => {
    const run = await runCloud(imagegenTopology(), 4, (cloud) => cloud.services.sagemaker.setDesiredInstanceCount('imagegen-sdxl', 'AllTraffic', 2));
    expect(run.invocations).toBe(4);
    expect(run.errors).toBe(0);
    expect(run.log.filter((line) => line.includes('ignoring SageMaker test notification'))).toHaveLength(4);
  });
});
