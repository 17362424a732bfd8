/**
 * Settings that follow from the configuration, synthesized at the defaults and at raised values:
 * the container's workers and the endpoint's concurrency follow the instance type, and the
 * workflow's callback timeout follows the queue TTL.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { SERVING_IMAGE } from '../../topology/imagegen-topology';
import { logicalIdOf, synthesize, type Synthesized } from './synth';

const resolveTimeout = (s: Synthesized) => {
  const props = s.json.Resources[logicalIdOf(s, 'stateMachine', 'imagegen-request')]!.Properties!;
  return (JSON.parse(props.DefinitionString as string) as { States: { Resolve: { TimeoutSeconds: unknown } } }).States.Resolve.TimeoutSeconds;
};
const environmentOf = (s: Synthesized, fn: string) =>
  (s.json.Resources[logicalIdOf(s, 'function', fn)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;

describe('defaults (ml.inf2.48xlarge, queue TTL 3600 s)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize();
  }, 120_000);

  it('runs 12 model copies of 2 NeuronCores and lets the endpoint send 12 requests per instance', () => {
    s.template.hasResourceProperties('AWS::SageMaker::Model', {
      PrimaryContainer: { Environment: { SAGEMAKER_MODEL_SERVER_WORKERS: '12', NEURON_RT_NUM_CORES: '2', SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS: '900' } },
    });
    s.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', {
      ProductionVariants: [
        Match.objectLike({ InstanceType: 'ml.inf2.48xlarge', VolumeSizeInGB: 128, ModelDataDownloadTimeoutInSeconds: 1800, ContainerStartupHealthCheckTimeoutInSeconds: 1800 }),
      ],
      AsyncInferenceConfig: { ClientConfig: { MaxConcurrentInvocationsPerInstance: 12 } },
    });
    expect(environmentOf(s, 'imagegen-publish-utilization').CONCURRENCY_PER_INSTANCE).toBe('12');
  });

  it('serves the Hugging Face Neuron DLC of Neuron SDK 2.20, whose toolchain (optimum-neuron 0.0.25, neuronx-cc 2.15.128) the archive must be compiled with', () => {
    // Another image needs the compile pins in model/ and docs/deploy.md changed with it.
    expect(SERVING_IMAGE).toMatch(/\/huggingface-pytorch-inference-neuronx:2\.1\.2-transformers4\.43\.2-neuronx-py310-sdk2\.20\.0-ubuntu20\.04$/);
    s.template.hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: Match.objectLike({ Image: SERVING_IMAGE }) });
  });

  it('waits for three attempts of 3600 + 900 + 300 s each, plus 600 s, for an inference', () => {
    // Each attempt: queue TTL + invocation timeout, 120 s for its objects to land, the reconciler's next run (60 s) and that run (120 s).
    expect(resolveTimeout(s)).toBe(3 * (3600 + 900 + 300) + 600);
  });
});

describe('a raised queue TTL (21600 s, the SageMaker maximum)', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synthesize({ 'imagegen:requestTtlSeconds': '21600', 'imagegen:instanceType': 'ml.inf2.24xlarge' });
  }, 120_000);

  it('makes the workflow wait at least as long as SageMaker may hold the request', () => {
    const timeout = resolveTimeout(s);
    // Three attempts of 21,600 s in the queue + 900 s invocation timeout + 300 s, and 600 s slack (docs/design.md, "The callback timeout").
    expect(timeout).toBe(69_000);
    expect(environmentOf(s, 'imagegen-resolve').REQUEST_TTL_SECONDS).toBe('21600');
  });

  it('takes the instance type from context and derives 6 model copies for ml.inf2.24xlarge', () => {
    s.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { ProductionVariants: [Match.objectLike({ InstanceType: 'ml.inf2.24xlarge' })] });
    s.template.hasResourceProperties('AWS::SageMaker::Model', { PrimaryContainer: { Environment: { SAGEMAKER_MODEL_SERVER_WORKERS: '6', NEURON_RT_NUM_CORES: '2', SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS: '900' } } });
    s.template.hasResourceProperties('AWS::SageMaker::EndpointConfig', { AsyncInferenceConfig: { ClientConfig: { MaxConcurrentInvocationsPerInstance: 6 } } });
  });
});
