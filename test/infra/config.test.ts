import { configFromContext, ConfigError, defaultInfraConfig } from '../../infra/config';
import { ecrRepositoryArn } from '../../infra/constructs/async-endpoint';
import { defaultConfig } from '../../topology/imagegen-topology';

const fromContext = (context: Record<string, unknown>) => configFromContext((key) => context[key]);

describe('configFromContext', () => {
  it('returns the topology defaults when no context is set', () => {
    expect(fromContext({})).toEqual(defaultInfraConfig);
  });

  it('coerces string context (cdk -c) to the default value types', () => {
    const c = fromContext({
      'imagegen:instanceType': 'ml.inf2.8xlarge',
      'imagegen:minInstances': '1',
      'imagegen:maxInstances': '10',
      'imagegen:supportedSizes': '1024x1024, 768x768',
      'imagegen:retainData': 'false',
      'imagegen:logRetentionDays': '90',
    });
    expect(c.imagegen).toEqual({
      ...defaultConfig,
      instanceType: 'ml.inf2.8xlarge',
      // One Inferentia2 chip: 2 NeuronCores, one model copy of 2 cores.
      maxConcurrentInvocationsPerInstance: 1,
      minInstances: 1,
      maxInstances: 10,
      supportedSizes: ['1024x1024', '768x768'],
    });
    expect(c.retainData).toBe(false);
    expect(c.logRetentionDays).toBe(90);
  });

  it('derives the concurrency from the instance type and the NeuronCores per model copy', () => {
    expect(defaultConfig).toMatchObject({ instanceType: 'ml.inf2.48xlarge', neuronCoresPerModelCopy: 2, maxConcurrentInvocationsPerInstance: 12 });
    expect(fromContext({ 'imagegen:instanceType': 'ml.inf2.24xlarge' }).imagegen.maxConcurrentInvocationsPerInstance).toBe(6);
    expect(fromContext({ 'imagegen:neuronCoresPerModelCopy': '4' }).imagegen.maxConcurrentInvocationsPerInstance).toBe(6);
  });

  it('accepts JSON-typed context from cdk.json', () => {
    const c = fromContext({ 'imagegen:maxInstances': 8, 'imagegen:supportedSizes': ['1024x1024'] });
    expect(c.imagegen.maxInstances).toBe(8);
  });

  it.each([
    ['imagegen:instanceType', 'ml.g5.2xlarge', /instanceType must be one of ml\.inf2\.xlarge/],
    ['imagegen:maxInstances', 'many', /maxInstances must be a number/],
    ['imagegen:minInstances', '-1', /minInstances must be an integer in 0–1000/],
    ['imagegen:maxConcurrentInvocationsPerInstance', '12', /maxConcurrentInvocationsPerInstance cannot be set: it is the model copies of imagegen:instanceType/],
    ['imagegen:neuronCoresPerModelCopy', '5', /neuronCoresPerModelCopy: 5 NeuronCores per model copy does not divide the 24 NeuronCores of ml\.inf2\.48xlarge/],
    ['imagegen:modelVolumeSizeGb', '600', /modelVolumeSizeGb must be an integer in 1–512/],
    ['imagegen:modelDataDownloadTimeoutSeconds', '30', /modelDataDownloadTimeoutSeconds must be an integer in 60–3600/],
    ['imagegen:containerStartupHealthCheckTimeoutSeconds', '7200', /containerStartupHealthCheckTimeoutSeconds must be an integer in 60–3600/],
    ['imagegen:requestTtlSeconds', '30', /requestTtlSeconds must be an integer in 60–21600/],
    ['imagegen:inferenceRetries', '6', /inferenceRetries must be an integer in 0–5/],
    ['imagegen:reconcileAfterSeconds', '0', /reconcileAfterSeconds must be an integer in 1–3600/],
    ['imagegen:utilizationTarget', '1.5', /utilizationTarget must be in \(0, 1\]/],
    ['imagegen:supportedSizes', '1024', /supportedSizes entries must be WIDTHxHEIGHT/],
    ['imagegen:modelArtifactsS3Uri', 'https://example.com/model.tar.gz', /modelArtifactsS3Uri must look like s3:\/\/bucket/],
    ['imagegen:bucketPhysicalName', 'Bad_Name', /bucketPhysicalName is not a valid S3 bucket name/],
    ['imagegen:alarmTopicArn', 'topic', /alarmTopicArn must be an SNS topic ARN/],
    ['imagegen:retainData', 'yes', /retainData must be true or false/],
    ['imagegen:autoScaling', 'off', /autoScaling must be true or false/],
  ])('rejects %s = %j naming the key and the bound', (key, value, message) => {
    expect(() => fromContext({ [key]: value })).toThrow(message);
    expect(() => fromContext({ [key]: value })).toThrow(ConfigError);
  });

  it('rejects max instances below min instances', () => {
    expect(() => fromContext({ 'imagegen:minInstances': 3, 'imagegen:maxInstances': 2 })).toThrow(/maxInstances \(2\) must be ≥ imagegen:minInstances \(3\)/);
  });

  describe('scheduled actions', () => {
    const action = { name: 'campaign-peak', schedule: 'cron(0 8 * * ? *)', timezone: 'America/New_York', minCapacity: 2, maxCapacity: 4 };

    it('parses a JSON string and defaults the time zone to UTC', () => {
      const { timezone: _tz, ...withoutZone } = action;
      const c = fromContext({ 'imagegen:scheduledActions': JSON.stringify([action, { ...withoutZone, name: 'b' }]) });
      expect(c.scheduledActions).toEqual([action, { ...withoutZone, name: 'b', timezone: 'UTC' }]);
    });

    it.each([
      [{ ...action, name: 'a:b' }, /\[0\]\.name must be 1–256 characters without ':'/],
      [{ ...action, schedule: 'every day' }, /\[0\]\.schedule must be cron\(\.\.\.\), rate\(N unit\) or at\(/],
      [{ ...action, timezone: 'Mars/Olympus' }, /\[0\]\.timezone must be an IANA time zone/],
      [{ ...action, minCapacity: 5 }, /\[0\]\.maxCapacity must be ≥ minCapacity/],
      [{ ...action, maxCapacity: 1.5 }, /\[0\]\.maxCapacity must be an integer ≥ 0/],
    ])('rejects %j', (bad, message) => {
      expect(() => fromContext({ 'imagegen:scheduledActions': [bad] })).toThrow(message);
    });

    it('rejects text that is not JSON', () => {
      expect(() => fromContext({ 'imagegen:scheduledActions': 'nightly' })).toThrow(/scheduledActions must be a JSON array/);
    });
  });
});

describe('ecrRepositoryArn', () => {
  it('derives the repository ARN from the image URI', () => {
    expect(ecrRepositoryArn('763104351884.dkr.ecr.us-west-2.amazonaws.com/huggingface-pytorch-inference-neuronx:2.1.2-tag')).toMatch(
      /:ecr:us-west-2:763104351884:repository\/huggingface-pytorch-inference-neuronx$/,
    );
  });

  it('rejects an image that is not in ECR', () => {
    expect(() => ecrRepositoryArn('docker.io/library/python:3.12')).toThrow(/is not an ECR image URI/);
  });
});
