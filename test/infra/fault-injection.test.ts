import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { configFromContext, ConfigError } from '../../infra/config';
import { allowedActions, allows, render, roleOfFunction, statementsOfRole, type Statement } from './iam';
import { logicalIdOf, synthesize, type Synthesized } from './synth';

const COMPLETE = 'imagegen-complete';
const ARM64_EXTENSION_PARAMETER = '/aws/service/fis/lambda-extension/AWS-FIS-extension-arm64/1.x.x';

let off: Synthesized;
let on: Synthesized;
beforeAll(() => {
  off = synthesize();
  on = synthesize({ 'imagegen:faultInjection': 'true' });
}, 120_000);

const ofType = (s: Synthesized, type: string) => Object.entries(s.json.Resources).filter(([, r]) => r.Type === type);
interface FisAction {
  ActionId: string;
  Parameters: Record<string, string>;
  Targets: Record<string, string>;
}
interface FisTemplate {
  Actions: Record<string, FisAction>;
  Targets: Record<string, unknown>;
  StopConditions: unknown[];
  RoleArn: unknown;
  LogConfiguration: unknown;
  ExperimentOptions: unknown;
}
const fisTemplate = (s: Synthesized) => {
  const templates = ofType(s, 'AWS::FIS::ExperimentTemplate');
  expect(templates).toHaveLength(1);
  return templates[0]![1].Properties as unknown as FisTemplate;
};
const configBucketId = (s: Synthesized) =>
  ofType(s, 'AWS::S3::Bucket')
    .map(([id]) => id)
    .filter((id) => id.startsWith('FaultInjectionConfigBucket'))[0]!;
const fisRoleId = (s: Synthesized) => {
  const roles = ofType(s, 'AWS::IAM::Role').filter(([, r]) =>
    JSON.stringify(r.Properties!.AssumeRolePolicyDocument).includes('fis.amazonaws.com'),
  );
  expect(roles).toHaveLength(1);
  return roles[0]![0];
};
const environmentOf = (s: Synthesized, fn: string) =>
  ((s.json.Resources[logicalIdOf(s, 'function', fn)]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables);
const arnOf = (s: Synthesized, kind: string, name: string) => `\${${logicalIdOf(s, kind, name)}.Arn}`;

describe('fault injection off (the default)', () => {
  it('renders the same template, byte for byte, whether the flag is absent or false', () => {
    const explicit = synthesize({ 'imagegen:faultInjection': 'false' });
    const text = (s: Synthesized) => readFileSync(path.join(s.outdir, s.stack.templateFile), 'utf8');
    expect(text(explicit)).toBe(text(off));
  }, 60_000);

  it('has no FIS template, layer, extension variable, SSM parameter or FIS permission', () => {
    expect(ofType(off, 'AWS::FIS::ExperimentTemplate')).toEqual([]);
    for (const [, fn] of ofType(off, 'AWS::Lambda::Function')) {
      expect(fn.Properties!.Layers).toBeUndefined();
      const variables = Object.keys((fn.Properties!.Environment as { Variables?: object } | undefined)?.Variables ?? {});
      expect(variables.filter((v) => v.startsWith('AWS_FIS_') || v === 'AWS_LAMBDA_EXEC_WRAPPER')).toEqual([]);
    }
    const text = JSON.stringify(off.json);
    for (const needle of ['fis.amazonaws.com', 'FisConfigs', 'lambda-extension', 'vendedlogs/fis']) expect(text).not.toContain(needle);
    expect(ofType(off, 'AWS::S3::Bucket').map(([id]) => id).filter((id) => id.startsWith('FaultInjection'))).toEqual([]);
  });
});

describe('fault injection on: the experiment template', () => {
  it('fails invocations of Complete, by ARN, with the configured percentage, duration and preventExecution', () => {
    const t = fisTemplate(on);
    const actions = Object.values(t.Actions);
    expect(actions).toHaveLength(1);
    const action = actions[0]!;
    expect(action.ActionId).toBe('aws:lambda:invocation-error');
    expect(action.Parameters).toEqual({ duration: 'PT10M', invocationPercentage: '5', preventExecution: 'true' });
    const targetName = action.Targets.Functions!;
    expect(Object.keys(action.Targets)).toEqual(['Functions']);
    expect(t.Targets).toEqual({
      [targetName]: {
        ResourceType: 'aws:lambda:function',
        ResourceArns: [{ 'Fn::GetAtt': [logicalIdOf(on, 'function', COMPLETE), 'Arn'] }],
        SelectionMode: 'ALL',
      },
    });
    expect(t.ExperimentOptions).toEqual({ AccountTargeting: 'single-account', EmptyTargetResolutionMode: 'fail' });
  });

  it('takes the percentage, duration and preventExecution from context', () => {
    const custom = synthesize({
      'imagegen:faultInjection': true,
      'imagegen:faultInjectionInvocationPercentage': '25',
      'imagegen:faultInjectionDuration': 'PT1H30M',
      'imagegen:faultInjectionPreventExecution': 'false',
    });
    const [action] = Object.values(fisTemplate(custom).Actions);
    expect(action!.Parameters).toEqual({ duration: 'PT1H30M', invocationPercentage: '25', preventExecution: 'false' });
  }, 60_000);

  it('stops on the failed-executions alarm of the request workflow', () => {
    const alarmId = ofType(on, 'AWS::CloudWatch::Alarm').find(([, a]) => a.Properties!.AlarmName === 'imagegen-request-failed-executions')![0];
    expect(fisTemplate(on).StopConditions).toEqual([{ Source: 'aws:cloudwatch:alarm', Value: { 'Fn::GetAtt': [alarmId, 'Arn'] } }]);
  });

  it('runs as the FIS role and logs each experiment to its own log group', () => {
    const t = fisTemplate(on);
    expect(t.RoleArn).toEqual({ 'Fn::GetAtt': [fisRoleId(on), 'Arn'] });
    const logGroupId = ofType(on, 'AWS::Logs::LogGroup').find(([, g]) => String(g.Properties!.LogGroupName).startsWith('/aws/vendedlogs/fis/'))![0];
    expect(t.LogConfiguration).toEqual({ CloudWatchLogsConfiguration: { LogGroupArn: { 'Fn::GetAtt': [logGroupId, 'Arn'] } }, LogSchemaVersion: 2 });
  });
});

describe('fault injection on: the FIS extension on Complete', () => {
  it('adds the extension layer, resolved in the Region from the public arm64 SSM parameter', () => {
    const fn = on.json.Resources[logicalIdOf(on, 'function', COMPLETE)]!.Properties!;
    expect(fn.Architectures).toEqual(['arm64']);
    const layers = fn.Layers as { Ref: string }[];
    expect(layers).toHaveLength(1);
    const parameter = (on.json as unknown as { Parameters: Record<string, { Type: string; Default: string }> }).Parameters[layers[0]!.Ref]!;
    expect(parameter).toEqual({ Type: 'AWS::SSM::Parameter::Value<String>', Default: ARM64_EXTENSION_PARAMETER });
  });

  it('sets the wrapper and the S3 ARN of the configuration folder the extension reads', () => {
    const env = environmentOf(on, COMPLETE);
    expect(env.AWS_LAMBDA_EXEC_WRAPPER).toBe('/opt/aws-fis/bootstrap');
    expect(render(env.AWS_FIS_CONFIGURATION_LOCATION)).toBe(`\${${configBucketId(on)}.Arn}/FisConfigs/`);
    expect(env.AWS_FIS_POLL_MAX_WAIT_MILLISECONDS).toBe('2000');
    // Complete's own settings are untouched.
    const { AWS_LAMBDA_EXEC_WRAPPER: _w, AWS_FIS_CONFIGURATION_LOCATION: _l, AWS_FIS_POLL_MAX_WAIT_MILLISECONDS: _p, AWS_FIS_EXTENSION_METRICS: _m, ...rest } = env;
    expect(rest).toEqual(environmentOf(off, COMPLETE));
  });

  it('changes no other function, and of the existing resources only Complete and its policy', () => {
    const changed = Object.keys(off.json.Resources).filter(
      (id) => JSON.stringify(off.json.Resources[id]) !== JSON.stringify(on.json.Resources[id]),
    );
    const completeId = logicalIdOf(on, 'function', COMPLETE);
    const completePolicy = ofType(on, 'AWS::IAM::Policy').find(([, p]) =>
      (p.Properties!.Roles as { Ref: string }[]).some((r) => r.Ref === roleOfFunction(on, completeId)),
    )![0];
    expect(changed.sort()).toEqual([completeId, completePolicy].sort());
  });

  it('lets Complete list and read the configuration folder, and nothing more of that bucket', () => {
    const bucket = `\${${configBucketId(on)}.Arn}`;
    const complete = statementsOfRole(on, roleOfFunction(on, logicalIdOf(on, 'function', COMPLETE)));
    expect(allows(complete, 's3:GetObject', `${bucket}/FisConfigs/abc.json`)).toBe(true);
    expect(allows(complete, 's3:GetObject', `${bucket}/elsewhere.json`)).toBe(false);
    expect(allows(complete, 's3:PutObject', `${bucket}/FisConfigs/abc.json`)).toBe(false);
    const list = complete.find((st) => allows([st], 's3:ListBucket', bucket))!;
    expect(list.Condition).toEqual({ StringLike: { 's3:prefix': ['FisConfigs/*'] } });
    for (const fn of on.topology.functions.filter((f) => f.name !== COMPLETE)) {
      const statements = statementsOfRole(on, roleOfFunction(on, logicalIdOf(on, 'function', fn.name)));
      expect(allows(statements, 's3:GetObject', `${bucket}/FisConfigs/abc.json`)).toBe(false);
    }
  });
});

describe('fault injection on: the role FIS assumes', () => {
  let statements: Statement[];
  beforeAll(() => {
    statements = statementsOfRole(on, fisRoleId(on));
  });

  it('trusts only FIS, for experiments of this account and Region', () => {
    const role = on.json.Resources[fisRoleId(on)]!.Properties!;
    const trust = (role.AssumeRolePolicyDocument as { Statement: { Principal: unknown; Action: string; Condition: Record<string, Record<string, unknown>> }[] }).Statement;
    expect(trust).toHaveLength(1);
    expect(trust[0]!.Principal).toEqual({ Service: 'fis.amazonaws.com' });
    expect(trust[0]!.Action).toBe('sts:AssumeRole');
    expect(trust[0]!.Condition.StringEquals).toEqual({ 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    expect(render(trust[0]!.Condition.ArnLike!['aws:SourceArn'])).toBe('arn:${AWS::Partition}:fis:${AWS::Region}:${AWS::AccountId}:experiment/*');
    expect(role.ManagedPolicyArns).toBeUndefined();
  });

  it('may do exactly what aws:lambda:invocation-error and experiment logging need', () => {
    expect(allowedActions(statements)).toEqual([
      'lambda:GetFunction',
      'logs:CreateLogDelivery',
      'logs:DescribeLogGroups',
      'logs:DescribeResourcePolicies',
      'logs:PutResourcePolicy',
      's3:DeleteObject',
      's3:PutObject',
      'tag:GetResources',
    ]);
  });

  it('writes fault configurations only under FisConfigs/ of its own bucket', () => {
    const bucket = `\${${configBucketId(on)}.Arn}`;
    for (const action of ['s3:PutObject', 's3:DeleteObject']) {
      expect(allows(statements, action, `${bucket}/FisConfigs/exp.json`)).toBe(true);
      expect(allows(statements, action, `${bucket}/other/exp.json`)).toBe(false);
      expect(allows(statements, action, `${arnOf(on, 'bucket', on.topology.buckets[0]!.name)}/FisConfigs/exp.json`)).toBe(false);
    }
  });

  it('reads the configuration of Complete and of no other function', () => {
    expect(allows(statements, 'lambda:GetFunction', arnOf(on, 'function', COMPLETE))).toBe(true);
    expect(allows(statements, 'lambda:GetFunction', `${arnOf(on, 'function', COMPLETE)}:$LATEST`)).toBe(true);
    expect(allows(statements, 'lambda:GetFunction', arnOf(on, 'function', 'imagegen-resolve'))).toBe(false);
  });
});

describe('fault injection on: cdk-nag', () => {
  it('leaves no unacknowledged AwsSolutions finding', () => {
    const report = JSON.parse(readFileSync(path.join(on.outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; conclusion: string; violations: unknown[] }[];
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
    expect(nag.violations).toEqual([]);
    expect(nag.conclusion).toBe('success');
  });
});

describe('fault injection context', () => {
  const fromContext = (context: Record<string, unknown>) => configFromContext((key) => context[key]);

  it('is off unless imagegen:faultInjection is true, with the documented defaults when on', () => {
    expect(fromContext({}).faultInjection).toBeUndefined();
    expect(fromContext({ 'imagegen:faultInjection': false }).faultInjection).toBeUndefined();
    expect(fromContext({ 'imagegen:faultInjection': 'true' }).faultInjection).toEqual({ invocationPercentage: 5, duration: 'PT10M', preventExecution: true });
  });

  it.each([
    ['imagegen:faultInjection', 'yes', /imagegen:faultInjection must be true or false, got "yes"/],
    ['imagegen:faultInjectionInvocationPercentage', '0', /faultInjectionInvocationPercentage must be an integer in 1–100, got 0/],
    ['imagegen:faultInjectionInvocationPercentage', '101', /faultInjectionInvocationPercentage must be an integer in 1–100, got 101/],
    ['imagegen:faultInjectionInvocationPercentage', '2.5', /faultInjectionInvocationPercentage must be an integer in 1–100, got 2\.5/],
    ['imagegen:faultInjectionInvocationPercentage', 'five', /faultInjectionInvocationPercentage must be a number, got "five"/],
    ['imagegen:faultInjectionDuration', '10m', /faultInjectionDuration must be an ISO 8601 duration from PT1M to PT12H \(e\.g\. PT10M\), got "10m"/],
    ['imagegen:faultInjectionDuration', 'PT30S', /faultInjectionDuration must be an ISO 8601 duration from PT1M to PT12H/],
    ['imagegen:faultInjectionDuration', 'PT12H1M', /faultInjectionDuration must be an ISO 8601 duration from PT1M to PT12H/],
    ['imagegen:faultInjectionDuration', 'PT', /faultInjectionDuration must be an ISO 8601 duration from PT1M to PT12H/],
    ['imagegen:faultInjectionPreventExecution', 'maybe', /faultInjectionPreventExecution must be true or false, got "maybe"/],
  ])('rejects %s = %j naming the key and the bound, with the flag on or off', (key, value, message) => {
    for (const flag of ['true', 'false']) {
      expect(() => fromContext({ 'imagegen:faultInjection': flag, [key]: value })).toThrow(message);
      expect(() => fromContext({ 'imagegen:faultInjection': flag, [key]: value })).toThrow(ConfigError);
    }
  });

  it('accepts the bounds', () => {
    const low = fromContext({ 'imagegen:faultInjection': true, 'imagegen:faultInjectionInvocationPercentage': 1, 'imagegen:faultInjectionDuration': 'PT1M' });
    expect(low.faultInjection).toMatchObject({ invocationPercentage: 1, duration: 'PT1M' });
    const high = fromContext({ 'imagegen:faultInjection': true, 'imagegen:faultInjectionInvocationPercentage': 100, 'imagegen:faultInjectionDuration': 'PT12H' });
    expect(high.faultInjection).toMatchObject({ invocationPercentage: 100, duration: 'PT12H' });
  });

  it('fails synthesis on a bad value', () => {
    expect(() => synthesize({ 'imagegen:faultInjection': 'true', 'imagegen:faultInjectionInvocationPercentage': '150' })).toThrow(
      /imagegen:faultInjectionInvocationPercentage must be an integer in 1–100, got 150/,
    );
  });
});
