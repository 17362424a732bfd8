import * as path from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { buildSync } from 'esbuild';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../../topology/topology';
import { markSupport, markTopology } from '../topology-registry';

/** Packages with native binaries: installed for linux-arm64 next to the bundle instead of inlined. */
export const NATIVE_MODULES = ['sharp'] as const;

export interface TaskFunctionProps {
  /** The function as the topology describes it. */
  readonly spec: FunctionSpec;
  /** Repository root; `spec.entry` and `package-lock.json` are relative to it. */
  readonly repoRoot: string;
  /** `spec.environment` with every `Ref` already resolved. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: logs.RetentionDays;
  /** Give asynchronous invocations (SNS, EventBridge) a dead-letter queue. @default false */
  readonly asyncDeadLetterQueue?: boolean;
}

/**
 * One task's Lambda function: Node 22 on ARM64, bundled with the local esbuild (never Docker),
 * its own role with no managed policies, and its own log group.
 */
export class TaskFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;
  public readonly deadLetterQueue?: sqs.Queue;

  constructor(scope: Construct, id: string, props: TaskFunctionProps) {
    super(scope, id);
    const { spec } = props;
    const entry = path.resolve(props.repoRoot, spec.entry);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${spec.name}`,
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    markSupport(this.logGroup.node.defaultChild as logs.CfnLogGroup, 'function', spec.name, 'logs');

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${spec.name}: the permissions its topology entry lists, and its own log group`,
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    if (props.asyncDeadLetterQueue) {
      this.deadLetterQueue = new sqs.Queue(this, 'AsyncDlq', {
        queueName: `${spec.name}-async-dlq`,
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      markSupport(this.deadLetterQueue.node.defaultChild as sqs.CfnQueue, 'function', spec.name, 'async-dlq');
    }

    const nativeModules = Stack.of(this).bundlingRequired ? nativeModulesImportedBy(entry) : [];
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName: spec.name,
      entry,
      handler: spec.handler,
      projectRoot: props.repoRoot,
      depsLockFilePath: path.join(props.repoRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: spec.memoryMb,
      timeout: Duration.seconds(spec.timeoutSeconds),
      environment: { ...props.environment },
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      ...(spec.maxAsyncRetries !== undefined && { retryAttempts: spec.maxAsyncRetries }),
      ...(this.deadLetterQueue && { deadLetterQueue: this.deadLetterQueue }),
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.CJS,
        target: 'node22',
        minify: true,
        sourceMap: false,
        // Bundle the AWS SDK too: the runtime's copy is older than the versions the tasks are tested with.
        externalModules: [...NATIVE_MODULES],
        // Only when needed: otherwise the asset would carry the whole lock file for nothing.
        ...(nativeModules.length > 0 && { nodeModules: nativeModules }),
        environment: {
          // npm installs the native modules' optional binaries for the Lambda platform, not this machine.
          npm_config_os: 'linux',
          npm_config_cpu: 'arm64',
          npm_config_libc: 'glibc',
          // Served from the npm cache when it has the tarballs; the registry otherwise (plain offline mode fails on the packument).
          npm_config_prefer_offline: 'true',
          npm_config_audit: 'false',
          npm_config_fund: 'false',
        },
      },
    });
    markTopology(this.function.node.defaultChild as lambda.CfnFunction, 'function', spec.name);
  }
}

/** The native modules an entry reaches through its imports (an esbuild dry run with them external). */
export function nativeModulesImportedBy(entry: string): string[] {
  const result = buildSync({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    logLevel: 'silent',
    external: [...NATIVE_MODULES],
  });
  const imported = new Set<string>();
  for (const input of Object.values(result.metafile.inputs)) {
    for (const imp of input.imports) {
      if (imp.external && (NATIVE_MODULES as readonly string[]).includes(imp.path)) imported.add(imp.path);
    }
  }
  return [...imported].sort();
}
