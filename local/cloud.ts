/**
 * The embedded local cloud: instantiates a topology as emulated AWS services behind one edge port.
 *
 * Every service is built from the same `Topology` value that `infra/` renders with CDK, and the task
 * code runs unmodified: its SDK clients find the edge through `AWS_ENDPOINT_URL`.
 */
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { findResource, renderDefinitionValues, type Topology } from '../topology/topology';
import { imagegenTopology } from '../topology/imagegen-topology';
import { arnOf, resolveEnv, resolveRef, substituteDefinition, type Partition } from './arns';
import { AutoScalingService } from './autoscaling/autoscaling-service';
import { FaultInjector } from './chaos/injector';
import { chaosRoute } from './chaos/provider';
import { systemClock, type Clock } from './clock';
import { CloudWatchService } from './cloudwatch/cloudwatch-service';
import { consoleRoute } from './console/console-route';
import { CONSOLE_PATH } from './console/pages/html';
import { consoleTarget } from './console/target';
import { DYNAMODB_OPERATIONS, DynamoDbService } from './dynamodb/dynamodb-service';
import { EdgeServer } from './edge/server';
import { EventBridgeService } from './events/events-service';
import { bundleLambdaCode } from './lambda/bundle';
import { LambdaService } from './lambda/lambda-service';
import { startStandInModel } from './model/stand-in-server';
import type { EventBusPort, StepFunctionsPort } from './ports';
import { S3Service } from './s3/s3-service';
import { SageMakerService } from './sagemaker/sagemaker-service';
import { freePort } from './shared/ports';
import { LocalDatabase, type Synchronous } from './shared/database';
import { SnsService } from './sns/sns-service';
import { StepFunctionsService } from './stepfunctions/sfn-service';

export const DEFAULT_REGION = 'us-east-1';
export const DEFAULT_ACCOUNT = '000000000000';
export const DEFAULT_PORT = 4566;
export const REPO_ROOT = resolve(__dirname, '..');

export interface LocalCloudOptions {
  /** @default imagegen's topology with default configuration */
  readonly topology?: Topology;
  /** Where objects, tables, executions and metrics live. @default `.imagegen` in the working directory */
  readonly dataDir?: string;
  /**
   * How far a commit goes before the local cloud answers: `NORMAL` survives the process being killed,
   * `FULL` also an OS crash or power loss (local/shared/database.ts). @default 'NORMAL'
   */
  readonly synchronous?: Synchronous;
  /** @default 4566; 0 picks a free port. */
  readonly port?: number;
  /** @default 127.0.0.1 */
  readonly host?: string;
  readonly region?: string;
  readonly account?: string;
  readonly clock?: Clock;
  /** A real SageMaker inference container (`/ping`, `/invocations`). @default the embedded stand-in */
  readonly modelUrl?: string;
  /** Stand-in model behaviour, when no modelUrl is given. */
  readonly standIn?: { readonly inferenceMs?: number; readonly errorRate?: number };
  /** Overrides the topology's modelled instance start-up time (seconds). */
  readonly instanceStartupSeconds?: number;
  /** Seconds after a minute closes before the endpoint's metrics of it are readable. @default as on AWS (see local/sagemaker/metrics.ts) */
  readonly metricsLagSeconds?: number;
  /** Execution environments per function (concurrent invocations). @default 8 */
  readonly lambdaConcurrency?: number;
  /** Delays between Lambda async retries. @default [1000, 2000] */
  readonly lambdaAsyncRetryDelaysMs?: readonly number[];
  /** Browser origins allowed to call the edge besides the console's own (`--allow-origin`). */
  readonly allowedOrigins?: readonly string[];
  /**
   * Fault rules in force from the start (`--faults FILE`; local/chaos/rules.ts). Checked against the
   * services before the edge listens: a rule that cannot apply fails the start, naming its field.
   * @default none: fault injection off (`POST /_imagegen/chaos/faults` can turn it on)
   */
  readonly faults?: unknown;
  readonly log?: (line: string) => void;
}

export class LocalCloud {
  private constructor(
    readonly url: string,
    readonly partition: Partition,
    readonly topology: Topology,
    readonly dataDir: string,
    readonly services: {
      readonly s3: S3Service;
      readonly dynamodb: DynamoDbService;
      readonly sns: SnsService;
      readonly cloudwatch: CloudWatchService;
      readonly lambda: LambdaService;
      readonly sagemaker: SageMakerService;
      readonly autoscaling: AutoScalingService;
      readonly stepFunctions: StepFunctionsService;
      readonly events: EventBridgeService;
    },
    private closers: readonly (() => Promise<void> | void)[],
    /** Fault injection: off until rules are put in force (options, `/_imagegen/chaos/faults`, or `replace`). */
    readonly faults: FaultInjector,
  ) {}

  static async start(options: LocalCloudOptions = {}): Promise<LocalCloud> {
    const topology = options.topology ?? imagegenTopology();
    const partition: Partition = { region: options.region ?? DEFAULT_REGION, account: options.account ?? DEFAULT_ACCOUNT };
    const clock = options.clock ?? systemClock;
    const dataDir = resolve(options.dataDir ?? '.imagegen');
    const log = options.log ?? (() => undefined);
    const host = options.host ?? '127.0.0.1';
    await mkdir(dataDir, { recursive: true });
    // What every service acknowledged is committed here before it answers; closed last.
    const database = LocalDatabase.open(dataDir, options.synchronous ? { synchronous: options.synchronous } : {});
    const closers: (() => Promise<void> | void)[] = [() => database.close()];
    // Consulted at each delivery point; every hook returns at once while no rule is in force.
    const faults = new FaultInjector({ log });

    // The port must be known before any Lambda environment is built: it is their AWS_ENDPOINT_URL.
    const port = options.port === 0 ? await freePort(host) : (options.port ?? DEFAULT_PORT);
    const url = `http://${host}:${port}`;

    let modelUrl = options.modelUrl;
    if (modelUrl === undefined) {
      const model = await startStandInModel({ port: 0, ...definedOnly(options.standIn ?? {}) });
      closers.push(() => model.close());
      modelUrl = model.url;
    }

    const s3 = new S3Service({ dataDir, region: partition.region, buckets: topology.buckets.map((b) => b.name), clock });
    // On the cloud's clock: TTL deletion must judge expiry by the time the functions stamped it with.
    const dynamodb = await DynamoDbService.start({ dataDir, tables: topology.tables, clock, faults });
    closers.push(() => dynamodb.close());
    const cloudwatch = new CloudWatchService({ clock, database });

    // Bundled in the background, as a deployment would; the first invocation waits for it.
    const code = bundleLambdaCode(REPO_ROOT, topology.functions.map((f) => f.entry), log);
    code.catch(() => undefined);
    const lambda = new LambdaService({
      ...partition,
      rootDir: REPO_ROOT,
      code,
      clock,
      database,
      faults,
      maxConcurrency: options.lambdaConcurrency ?? 8,
      metrics: cloudwatch,
      log,
      ...(options.lambdaAsyncRetryDelaysMs ? { asyncRetryDelaysMs: options.lambdaAsyncRetryDelaysMs } : {}),
      extraEnvironment: {
        AWS_ENDPOINT_URL: url,
        // The functions' table traffic goes straight to the DynamoDB emulator (its own thread), the
        // way a Lambda reaches the regional endpoint; producers and the CLI still use the edge.
        AWS_ENDPOINT_URL_DYNAMODB: dynamodb.directUrl,
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_SESSION_TOKEN: 'local',
      },
      functions: topology.functions.map((f) => ({
        name: f.name,
        entry: f.entry,
        handler: f.handler,
        memoryMb: f.memoryMb,
        timeoutSeconds: f.timeoutSeconds,
        environment: resolveEnv(f.environment, partition),
        ...(f.maxAsyncRetries === undefined ? {} : { maxAsyncRetries: f.maxAsyncRetries }),
      })),
    });
    closers.push(() => lambda.close());

    const sns = new SnsService({ ...partition, topics: topology.topics, lambda, clock, database, faults });

    const sagemaker = new SageMakerService({
      ...partition,
      clock,
      log,
      database,
      faults,
      objects: s3,
      topics: sns,
      metrics: cloudwatch,
      ...(options.metricsLagSeconds === undefined ? {} : { metricsLagSeconds: options.metricsLagSeconds }),
      endpoints: topology.endpoints.map((e) => ({
        name: e.name,
        variantName: e.variantName,
        modelUrl,
        initialInstanceCount: e.initialInstanceCount,
        maxConcurrentInvocationsPerInstance: e.maxConcurrentInvocationsPerInstance,
        instanceStartupSeconds: options.instanceStartupSeconds ?? e.local.instanceStartupSeconds,
        output: e.async.output,
        failure: e.async.failure,
        successTopicArn: arnOf('topic', e.async.successTopic, partition),
        errorTopicArn: arnOf('topic', e.async.errorTopic, partition),
      })),
    });
    closers.push(() => sagemaker.close());

    // The same policies the CDK stack deploys, acting on the emulated endpoint's instance count.
    const autoscaling = new AutoScalingService({
      ...partition,
      clock,
      log,
      metrics: cloudwatch,
      capacity: sagemaker,
      endpoints: topology.endpoints.map((e) => ({ name: e.name, variantName: e.variantName, scaling: e.scaling })),
    });
    closers.push(() => autoscaling.close());

    // Step Functions and EventBridge call each other (putEvents integration, rule targets).
    const late: { events?: EventBridgeService } = {};
    const eventsPort: EventBusPort = {
      putEvents: (entries) => {
        if (!late.events) throw new Error('EventBridge is not started yet');
        return late.events.putEvents(entries);
      },
    };
    const stepFunctions = new StepFunctionsService({
      ...partition,
      clock,
      database,
      log,
      lambda,
      events: eventsPort,
      stateMachines: topology.stateMachines.map((sm) => ({
        name: sm.name,
        type: sm.type,
        definition: substituteDefinition(
          renderDefinitionValues(readFileSync(join(REPO_ROOT, sm.definitionFile), 'utf8'), sm.values),
          Object.fromEntries(Object.entries(sm.substitutions).map(([k, r]) => [k, resolveRef(r, partition)])),
        ),
      })),
    });
    closers.push(() => stepFunctions.close());
    const stepFunctionsPort: StepFunctionsPort = stepFunctions;

    const events = new EventBridgeService({
      ...partition,
      clock,
      database,
      log,
      buses: topology.buses,
      rules: topology.rules,
      resolveTarget: (target) => arnOf(target.kind, findResource(topology, target.kind === 'function' ? 'functions' : 'stateMachines', target.name).name, partition),
      stepFunctions: stepFunctionsPort,
      lambda,
      faults,
    });
    late.events = events;
    closers.push(() => events.close());

    const handlers = [s3.handler, dynamodb.handler, sns.handler, cloudwatch.handler, lambda.handler, sagemaker.handler, autoscaling.handler, stepFunctions.handler, events.handler];
    // DynamoDB decides its API faults in its own thread, where the functions' direct calls arrive too.
    faults.describe({ ...Object.fromEntries(handlers.flatMap((h) => (h.api ? [[h.name, h.api.operations]] : []))), dynamodb: DYNAMODB_OPERATIONS });
    if (options.faults !== undefined) {
      try {
        faults.replace(options.faults);
      } catch (error) {
        for (const close of [...closers].reverse()) await close();
        throw error;
      }
      log(`chaos: ${faults.current().rules.length} fault rule(s) in force, seed ${faults.current().seed}`);
    }

    const edge = new EdgeServer({
      services: handlers,
      host,
      port,
      region: partition.region,
      log,
      faults,
      localRoutes: [consoleRoute({ endpoint: url, region: partition.region, target: consoleTarget(topology, partition), log }), chaosRoute(faults, log)],
      // Nothing is acknowledged before it is committed.
      beforeAnswer: () => database.flush(),
      ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
    });
    await edge.listen();
    closers.push(() => edge.close());

    // Each start also resumes what the previous process had acknowledged and not finished.
    stepFunctions.start();
    sagemaker.start();
    autoscaling.start();
    events.start();
    lambda.start();

    return new LocalCloud(url, partition, topology, dataDir, { s3, dynamodb, sns, cloudwatch, lambda, sagemaker, autoscaling, stepFunctions, events }, closers, faults);
  }

  /** The operator console's address. */
  get consoleUrl(): string {
    return `${this.url}${CONSOLE_PATH}`;
  }

  /** Stops every service, newest first. Safe to call twice. */
  async close(): Promise<void> {
    const closers = [...this.closers].reverse();
    this.closers = [];
    for (const close of closers) await close();
  }

  /** Environment that points an SDK v3 client (or the AWS CLI) at this cloud. */
  clientEnvironment(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL: this.url,
      AWS_REGION: this.partition.region,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    };
  }
}

function definedOnly<T extends object>(value: T): { [K in keyof T]-?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}

