/**
 * imagegen's topology: the one place its names and wiring are written down.
 * `infra/` renders it with CDK; `local/` runs it. Defaults match ../shared/design/contract.md.
 */
import { DEFAULT_SUPPORTED_SIZES, REQUEST_DETAIL_TYPE, RESULT_SOURCE } from '../events/contract';
import { modelCopiesPerInstance, neuronInstanceType } from './instance-types';
import { callbackTimeoutSeconds, RECONCILE_SCHEDULE, RECONCILE_TIMEOUT_SECONDS } from './recovery';
import { scaleFromZeroSteps, stepScaleInSteps, stepScaleOutSteps } from './scaling-steps';
import { ref, type Topology } from './topology';

export { REQUEST_DETAIL_TYPE, RESULT_SOURCE };
export { CALLBACK_SLACK_SECONDS, callbackTimeoutSeconds } from './recovery';
export { SCALE_FROM_ZERO_BOUNDS, scaleFromZeroSteps, stepScaleInSteps, stepScaleOutSteps } from './scaling-steps';

export interface ImagegenConfig {
  readonly busName: string;
  readonly stateMachineName: string;
  readonly endpointName: string;
  readonly bucketName: string;
  readonly tableName: string;
  /** Model identity baked into every cache key. */
  readonly modelId: string;
  /** `WIDTHxHEIGHT` pairs the compiled model accepts (Neuron models have static shapes). */
  readonly supportedSizes: readonly string[];
  readonly instanceType: string;
  /** NeuronCores each model copy (one model server worker) takes; must divide the instance's NeuronCores. */
  readonly neuronCoresPerModelCopy: number;
  /**
   * Model copies per instance = the instance type's NeuronCores ÷ `neuronCoresPerModelCopy`; derived
   * (see `deriveConcurrency`), never set on its own: the endpoint may not send more than there are copies.
   */
  readonly maxConcurrentInvocationsPerInstance: number;
  /**
   * The model server's timeout per worker answer, its model load included
   * (`SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS`: the unsuffixed variable reaches multi-model-server as
   * minutes).
   */
  readonly modelServerTimeoutSeconds: number;
  /** EBS volume per instance for the downloaded and extracted model archive (`VolumeSizeInGB`, 1–512). */
  readonly modelVolumeSizeGb: number;
  /** Time allowed to download and extract the model archive (`ModelDataDownloadTimeoutInSeconds`, 60–3600). */
  readonly modelDataDownloadTimeoutSeconds: number;
  /** Time allowed for the container to load the model and answer `/ping` (`ContainerStartupHealthCheckTimeoutInSeconds`, 60–3600). */
  readonly containerStartupHealthCheckTimeoutSeconds: number;
  readonly minInstances: number;
  readonly maxInstances: number;
  /** How long a request may wait in the endpoint's queue (SageMaker RequestTTLSeconds, 60–21600). */
  readonly requestTtlSeconds: number;
  /** How long one inference may run (SageMaker InvocationTimeoutSeconds, 1–3600). */
  readonly invocationTimeoutSeconds: number;
  /**
   * New attempts after a transient inference failure (model 5xx, timeout, unreachable, lost) before
   * the waiting executions fail (0–5); each one can take an attempt's whole time again.
   */
  readonly inferenceRetries: number;
  /** Seconds after an attempt starts before the reconciler first looks for its output (1–3600). */
  readonly reconcileAfterSeconds: number;
  /** Mean seconds per image, used by the utilization metric until measured latency is available. */
  readonly inferenceSeconds: number;
  readonly utilizationTarget: number;
  readonly scaleOutCooldownSeconds: number;
  readonly scaleInCooldownSeconds: number;
  /** The utilization metric counts the backlog as demand to clear within this many seconds. */
  readonly drainSeconds: number;
  readonly instanceStartupSeconds: number;
}

const DEFAULT_INSTANCE_TYPE = 'ml.inf2.48xlarge';
const DEFAULT_NEURON_CORES_PER_MODEL_COPY = 2;

export const defaultConfig: ImagegenConfig = {
  busName: 'imagegen',
  stateMachineName: 'imagegen-request',
  endpointName: 'imagegen-sdxl',
  bucketName: 'imagegen-images',
  tableName: 'imagegen-coordination',
  modelId: 'stabilityai/stable-diffusion-xl-base-1.0@neuronx-1024x1024',
  supportedSizes: DEFAULT_SUPPORTED_SIZES,
  instanceType: DEFAULT_INSTANCE_TYPE,
  neuronCoresPerModelCopy: DEFAULT_NEURON_CORES_PER_MODEL_COPY,
  maxConcurrentInvocationsPerInstance: modelCopiesPerInstance(DEFAULT_INSTANCE_TYPE, DEFAULT_NEURON_CORES_PER_MODEL_COPY),
  // The first SDXL request on a fresh Neuron worker takes 45–60 s; the server's default is 60 s.
  modelServerTimeoutSeconds: 900,
  // A compiled SDXL archive is several GB per static shape, downloaded and then extracted beside itself.
  modelVolumeSizeGb: 128,
  modelDataDownloadTimeoutSeconds: 1800,
  // Twelve workers each load the pipeline onto their NeuronCores before /ping answers.
  containerStartupHealthCheckTimeoutSeconds: 1800,
  minInstances: 0,
  maxInstances: 4,
  requestTtlSeconds: 3600,
  invocationTimeoutSeconds: 900,
  inferenceRetries: 2,
  // A lost notification is noticed at most a minute (the schedule) after this: within 2 minutes of the output.
  reconcileAfterSeconds: 45,
  inferenceSeconds: 9.7,
  // The metric counts in-flight requests in the backlog: 0.8 keeps instances ≈ 78 % busy (docs/scaling.md).
  utilizationTarget: 0.8,
  scaleOutCooldownSeconds: 60,
  scaleInCooldownSeconds: 120,
  // Chosen on the tuning traces (docs/scaling.md): shorter than a start-up, since the signal is
  // already minutes old when it is read; 300 s under-sized spikes, 60 s over-sized office bursts.
  drainSeconds: 180,
  instanceStartupSeconds: 300,
};

/**
 * The publisher carries a rise in arrivals 5 minutes forward, fitted over the last 4 minutes, once it
 * is steeper than 3 % of their mean per minute (steady traffic wanders less). Chosen on the tuning
 * traces (docs/scaling.md): 3 minutes ahead under-sized a steep ramp, a 5-minute window a spike;
 * 4–6 minutes ahead, windows of 3–4 minutes and shares of 2–5 % met every goal alike.
 */
export const ARRIVALS_FORECAST = { horizonPeriods: 5, windowPeriods: 4, noiseSharePerPeriod: 0.03 } as const;

/** The configuration with `maxConcurrentInvocationsPerInstance` derived from the instance type and cores per copy. */
export function deriveConcurrency(config: ImagegenConfig): ImagegenConfig {
  return { ...config, maxConcurrentInvocationsPerInstance: modelCopiesPerInstance(config.instanceType, config.neuronCoresPerModelCopy) };
}

/**
 * The serving container's environment (Hugging Face Neuron inference DLC). No `HF_MODEL_ID` and no
 * `HF_TASK`: the toolkit would treat any `HF_MODEL_ID` as a Hub repository to download, while the
 * model is the archive SageMaker extracts to /opt/ml/model, whose `code/inference.py` loads it.
 */
export function containerEnvironment(config: ImagegenConfig): Record<string, string> {
  const copies = modelCopiesPerInstance(config.instanceType, config.neuronCoresPerModelCopy);
  if (copies !== config.maxConcurrentInvocationsPerInstance) {
    throw new Error(
      `maxConcurrentInvocationsPerInstance (${config.maxConcurrentInvocationsPerInstance}) must equal the model copies of ${config.instanceType} (${copies}): more requests than copies would queue inside the container`,
    );
  }
  return {
    SAGEMAKER_MODEL_SERVER_WORKERS: String(copies),
    NEURON_RT_NUM_CORES: String(config.neuronCoresPerModelCopy),
    SAGEMAKER_MODEL_SERVER_TIMEOUT_SECONDS: String(config.modelServerTimeoutSeconds),
  };
}

export const names = {
  requestRule: 'imagegen-requests',
  utilizationRule: 'imagegen-utilization-schedule',
  reconcileRule: 'imagegen-reconcile-schedule',
  requestArchive: 'imagegen-requests-archive',
  resolveFunction: 'imagegen-resolve',
  completeFunction: 'imagegen-complete',
  reportFailureFunction: 'imagegen-report-failure',
  publishUtilizationFunction: 'imagegen-publish-utilization',
  reconcileFunction: 'imagegen-reconcile',
  successTopic: 'imagegen-inference-succeeded',
  errorTopic: 'imagegen-inference-failed',
  variant: 'AllTraffic',
} as const;

export const prefixes = {
  inputs: 'inputs/',
  asyncOutput: 'async-output/',
  asyncFailures: 'async-failures/',
  images: 'images/',
} as const;

/** The Hugging Face Neuron inference DLC (Neuron SDK 2.20); model/ pins its compile toolchain to this image. */
export const SERVING_IMAGE =
  '763104351884.dkr.ecr.us-east-1.amazonaws.com/huggingface-pytorch-inference-neuronx:2.1.2-transformers4.43.2-neuronx-py310-sdk2.20.0-ubuntu20.04';

export const METRIC_NAMESPACE = 'ImageGen';
export const UTILIZATION_METRIC = 'UtilizationRate';
/** Inferences the endpoint accepted (a miss that won the image's lease), dimension `EndpointName` only. */
export const ARRIVALS_METRIC = 'InferencesStarted';

export function imagegenTopology(config: ImagegenConfig = defaultConfig): Topology {
  const bucket = ref.name('bucket', config.bucketName);
  const table = ref.name('table', config.tableName);
  const powertools = (service: string) => ({
    POWERTOOLS_SERVICE_NAME: service,
    POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
  });
  // What every function that starts or settles an inference attempt reads.
  const attemptEnvironment = {
    IMAGES_BUCKET: bucket,
    TABLE_NAME: table,
    ENDPOINT_NAME: ref.name('endpoint', config.endpointName),
    REQUEST_TTL_SECONDS: String(config.requestTtlSeconds),
    INVOCATION_TIMEOUT_SECONDS: String(config.invocationTimeoutSeconds),
    INFERENCE_RETRIES: String(config.inferenceRetries),
    RECONCILE_AFTER_SECONDS: String(config.reconcileAfterSeconds),
  };
  const settlePermissions = [
    // The endpoint's objects are read, never written; images are written.
    { kind: 'bucket', name: config.bucketName, access: 'read', prefixes: [prefixes.asyncOutput, prefixes.asyncFailures] },
    { kind: 'bucket', name: config.bucketName, access: 'readWrite', prefixes: [prefixes.images] },
    { kind: 'table', name: config.tableName, access: 'readWrite' },
    // A retry is a new InvokeEndpointAsync.
    { kind: 'endpoint', name: config.endpointName, access: 'invokeAsync' },
    { kind: 'stateMachine', name: config.stateMachineName, access: 'sendTaskResult' },
    { kind: 'metrics', access: 'put', namespaces: [METRIC_NAMESPACE] },
  ] as const;
  const requestPattern = {
    'detail-type': [REQUEST_DETAIL_TYPE],
    source: [{ 'anything-but': [RESULT_SOURCE] }],
  };

  return {
    buses: [
      {
        name: config.busName,
        archive: { name: names.requestArchive, retentionDays: 30, eventPattern: requestPattern },
      },
    ],
    rules: [
      {
        name: names.requestRule,
        bus: config.busName,
        eventPattern: requestPattern,
        targets: [{ kind: 'stateMachine', name: config.stateMachineName }],
        retryPolicy: { maximumEventAgeSeconds: 3600, maximumRetryAttempts: 20 },
      },
      {
        name: names.utilizationRule,
        schedule: 'rate(1 minute)',
        targets: [{ kind: 'function', name: names.publishUtilizationFunction }],
      },
      {
        name: names.reconcileRule,
        schedule: RECONCILE_SCHEDULE,
        targets: [{ kind: 'function', name: names.reconcileFunction }],
      },
    ],
    stateMachines: [
      {
        name: config.stateMachineName,
        type: 'STANDARD',
        definitionFile: 'workflows/imagegen-request.asl.json',
        substitutions: {
          ResolveFunctionArn: ref.arn('function', names.resolveFunction),
          ReportFailureFunctionArn: ref.arn('function', names.reportFailureFunction),
          EventBusArn: ref.arn('bus', config.busName),
        },
        values: { CallbackTimeoutSeconds: callbackTimeoutSeconds(config) },
      },
    ],
    functions: [
      {
        name: names.resolveFunction,
        entry: 'tasks/resolve/handler.ts',
        handler: 'handler',
        // Mostly I/O (a hit is a few small requests); sharp runs here only for a rendition first
        // asked on a hit, where a slower resize is a better trade than paying 1769 MB on every request.
        memoryMb: 512,
        timeoutSeconds: 60,
        environment: {
          ...powertools('imagegen-resolve'),
          ...attemptEnvironment,
          MODEL_ID: config.modelId,
          SUPPORTED_SIZES: config.supportedSizes.join(','),
        },
        permissions: [
          { kind: 'bucket', name: config.bucketName, access: 'readWrite', prefixes: [prefixes.images] },
          { kind: 'table', name: config.tableName, access: 'readWrite' },
          { kind: 'endpoint', name: config.endpointName, access: 'invokeAsync' },
          { kind: 'stateMachine', name: config.stateMachineName, access: 'sendTaskResult' },
          { kind: 'metrics', access: 'put', namespaces: [METRIC_NAMESPACE] },
        ],
      },
      {
        name: names.completeFunction,
        entry: 'tasks/complete/handler.ts',
        handler: 'handler',
        memoryMb: 1769,
        timeoutSeconds: 120,
        environment: { ...powertools('imagegen-complete'), ...attemptEnvironment },
        permissions: settlePermissions,
        maxAsyncRetries: 2,
      },
      {
        name: names.reconcileFunction,
        entry: 'tasks/reconcile/handler.ts',
        handler: 'handler',
        // Settles through Complete's code, post-processing included: the same memory.
        memoryMb: 1769,
        timeoutSeconds: RECONCILE_TIMEOUT_SECONDS,
        environment: { ...powertools('imagegen-reconcile'), ...attemptEnvironment },
        permissions: settlePermissions,
        // The next scheduled run is the retry.
        maxAsyncRetries: 0,
      },
      {
        name: names.reportFailureFunction,
        entry: 'tasks/report-failure/handler.ts',
        handler: 'handler',
        memoryMb: 256,
        timeoutSeconds: 30,
        environment: {
          ...powertools('imagegen-report-failure'),
          EVENT_BUS_NAME: ref.arn('bus', config.busName),
        },
        permissions: [
          { kind: 'bus', name: config.busName, access: 'putEvents' },
          { kind: 'metrics', access: 'put', namespaces: [METRIC_NAMESPACE] },
        ],
      },
      {
        name: names.publishUtilizationFunction,
        entry: 'tasks/publish-utilization/handler.ts',
        handler: 'handler',
        memoryMb: 256,
        timeoutSeconds: 30,
        environment: {
          ...powertools('imagegen-publish-utilization'),
          ENDPOINT_NAME: ref.name('endpoint', config.endpointName),
          VARIANT_NAME: names.variant,
          UTILIZATION_NAMESPACE: METRIC_NAMESPACE,
          UTILIZATION_METRIC: UTILIZATION_METRIC,
          ARRIVALS_METRIC: ARRIVALS_METRIC,
          CONCURRENCY_PER_INSTANCE: String(config.maxConcurrentInvocationsPerInstance),
          INFERENCE_SECONDS: String(config.inferenceSeconds),
          DRAIN_SECONDS: String(config.drainSeconds),
          FORECAST_HORIZON_MINUTES: String(ARRIVALS_FORECAST.horizonPeriods),
          FORECAST_WINDOW_MINUTES: String(ARRIVALS_FORECAST.windowPeriods),
          FORECAST_NOISE_SHARE: String(ARRIVALS_FORECAST.noiseSharePerPeriod),
        },
        permissions: [
          { kind: 'endpoint', name: config.endpointName, access: 'describe' },
          { kind: 'metrics', access: 'read' },
          { kind: 'metrics', access: 'put', namespaces: [METRIC_NAMESPACE] },
        ],
        maxAsyncRetries: 0,
      },
    ],
    topics: [
      { name: names.successTopic, subscriptions: [{ protocol: 'lambda', function: names.completeFunction }] },
      { name: names.errorTopic, subscriptions: [{ protocol: 'lambda', function: names.completeFunction }] },
    ],
    buckets: [
      {
        name: config.bucketName,
        prefixes,
        lifecycle: [
          { prefix: prefixes.inputs, days: 7 },
          { prefix: prefixes.asyncOutput, days: 7 },
          { prefix: prefixes.asyncFailures, days: 30 },
        ],
      },
    ],
    tables: [{ name: config.tableName, partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' }],
    endpoints: [
      {
        name: config.endpointName,
        variantName: names.variant,
        instanceType: config.instanceType,
        initialInstanceCount: 1,
        maxConcurrentInvocationsPerInstance: config.maxConcurrentInvocationsPerInstance,
        modelId: config.modelId,
        container: {
          image: SERVING_IMAGE,
          environment: containerEnvironment(config),
        },
        startup: {
          ...(neuronInstanceType(config.instanceType).ebsOnly && { volumeSizeGb: config.modelVolumeSizeGb }),
          modelDataDownloadTimeoutSeconds: config.modelDataDownloadTimeoutSeconds,
          containerStartupHealthCheckTimeoutSeconds: config.containerStartupHealthCheckTimeoutSeconds,
        },
        async: {
          input: { bucket: config.bucketName, prefix: prefixes.inputs },
          output: { bucket: config.bucketName, prefix: prefixes.asyncOutput },
          failure: { bucket: config.bucketName, prefix: prefixes.asyncFailures },
          successTopic: names.successTopic,
          errorTopic: names.errorTopic,
        },
        scaling: {
          minCapacity: config.minInstances,
          maxCapacity: config.maxInstances,
          targetTracking: {
            namespace: METRIC_NAMESPACE,
            metricName: UTILIZATION_METRIC,
            targetValue: config.utilizationTarget,
            scaleOutCooldownSeconds: config.scaleOutCooldownSeconds,
            scaleInCooldownSeconds: config.scaleInCooldownSeconds,
            drainSeconds: config.drainSeconds,
            forecast: ARRIVALS_FORECAST,
          },
          scaleFromZero: {
            evaluationPeriods: 1,
            periodSeconds: 60,
            threshold: 1,
            steps: scaleFromZeroSteps(config),
            // Longer than a start-up plus a period: the alarm still sees the zero-capacity minutes when
            // the instances come up, and within the cooldown only a larger step adds anything.
            cooldownSeconds: config.instanceStartupSeconds + 180,
          },
          stepScaleOut: {
            threshold: stepScaleOutSteps(config)[0]!.utilizationAtLeast,
            // Two datapoints, the larger picks the step: a ramp's first minute is only part of its height,
            // and a burst shorter than a minute is over before instances could start.
            evaluationPeriods: 2,
            metricAggregationType: 'Maximum',
            periodSeconds: 60,
            // As the scale-from-zero step: the alarm still sees the pre-scale-out minutes when the instances come up.
            cooldownSeconds: config.instanceStartupSeconds + 180,
            steps: stepScaleOutSteps(config),
          },
          stepScaleIn: {
            threshold: stepScaleInSteps(config)[0]!.utilizationBelow,
            evaluationPeriods: 3,
            periodSeconds: 60,
            // PercentChangeInCapacity rounds -0.6 of one instance to -1: the last instance is target tracking's.
            instancesAtLeast: 2,
            // Past the evaluation window, so the next step reads datapoints of the reduced capacity.
            cooldownSeconds: 240,
            steps: stepScaleInSteps(config),
          },
          scheduledActions: [],
        },
        local: { instanceStartupSeconds: config.instanceStartupSeconds },
      },
    ],
  };
}
