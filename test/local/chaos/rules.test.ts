/**
 * Fault documents are checked whole before anything applies: each mistake is refused with the field
 * and the bad value named, and a refused document leaves the rules in force as they were. A seed
 * makes the decisions repeatable.
 */
import { FaultInjector } from '../../../local/chaos/injector';
import { parseFaultPlan, type ServiceCatalogue } from '../../../local/chaos/rules';

const SERVICES: ServiceCatalogue = {
  s3: ['GetObject', 'PutObject', 'HeadObject'],
  dynamodb: ['GetItem', 'PutItem', 'Query'],
  sns: ['Publish'],
  events: ['PutEvents'],
  lambda: ['Invoke'],
  sagemaker: ['InvokeEndpointAsync'],
  stepfunctions: ['SendTaskSuccess'],
};

/** The recovery issue's example document, verbatim. */
const EXAMPLE = {
  seed: 7,
  rules: [
    { service: 's3', operation: 'GetObject', probability: 0.02, error: { statusCode: 500, code: 'InternalError' } },
    { service: 'dynamodb', probability: 0.02, error: { statusCode: 400, code: 'ProvisionedThroughputExceededException' } },
    { service: 'sns', action: 'drop', probability: 0.05 },
    { service: 'sns', action: 'duplicate', probability: 0.2 },
    { service: 'sns', action: 'delay', probability: 0.1, delayMs: 3000 },
    { service: 'events', action: 'duplicate', probability: 0.05 },
    { service: 'lambda', function: 'imagegen-complete', action: 'crash', probability: 0.05 },
    { service: 'sagemaker', action: 'model-error', probability: 0.1 },
    { service: 'sagemaker', action: 'lose', probability: 0.01 },
  ],
};

const parse = (document: unknown) => parseFaultPlan(document, SERVICES, () => 42);
const withRule = (rule: Record<string, unknown>) => ({ rules: [rule] });

describe('fault documents', () => {
  it("accepts the recovery issue's example as written", () => {
    const plan = parse(EXAMPLE);
    expect(plan.seed).toBe(7);
    expect(plan.rules).toHaveLength(9);
    expect(plan.rules[4]).toEqual({ service: 'sns', action: 'delay', probability: 0.1, delayMs: 3000 });
    expect(plan.rules[6]).toEqual({ service: 'lambda', action: 'crash', probability: 0.05, function: 'imagegen-complete' });
  });

  it('gives a rule without a probability probability 1, and a document without a seed a chosen one', () => {
    expect(parse(withRule({ service: 'sns', action: 'drop' }))).toEqual({ seed: 42, rules: [{ service: 'sns', action: 'drop', probability: 1 }] });
  });

  it.each([
    ['an unknown service', withRule({ service: 'sqs', action: 'drop' }), 'rules[0].service: "sqs" is not a service of the local cloud (one of dynamodb, events, lambda, s3, sagemaker, sns, stepfunctions)'],
    ['an unknown action', withRule({ service: 'sns', action: 'explode' }), 'rules[0].action: "explode" is not a fault of sns (one of drop, duplicate, delay)'],
    ['an action of another service', withRule({ service: 'lambda', action: 'drop' }), 'rules[0].action: "drop" is not a fault of lambda (one of crash, timeout)'],
    ['an action on a service without delivery faults', withRule({ service: 's3', action: 'drop' }), 'rules[0].action: s3 has no delivery faults, only API faults ("error")'],
    ['an operation the service does not answer', withRule({ service: 's3', operation: 'GetObjects', error: { statusCode: 500, code: 'InternalError' } }), 'rules[0].operation: "GetObjects" is not an operation s3 answers here (one of GetObject, PutObject, HeadObject)'],
    ['an unknown field', withRule({ service: 'sns', action: 'drop', probabilty: 0.5 }), 'rules[0].probabilty: unknown field'],
    ['an unknown field of the error', withRule({ service: 's3', error: { statusCode: 500, code: 'InternalError', retryable: true } }), 'rules[0].error.retryable: unknown field'],
    ['an unknown top-level field', { rules: [], faults: [] }, 'the fault document.faults: unknown field'],
    ['a probability above 1', withRule({ service: 'sns', action: 'drop', probability: 5 }), 'rules[0].probability: must be a number from 0 to 1, got 5'],
    ['a probability given as text', withRule({ service: 'sns', action: 'drop', probability: '0.5' }), 'rules[0].probability: must be a number from 0 to 1, got "0.5"'],
    ['a status code that is not an error', withRule({ service: 's3', error: { statusCode: 200, code: 'InternalError' } }), 'rules[0].error.statusCode: must be an integer from 400 to 599, got 200'],
    ['an error code that is not a name', withRule({ service: 's3', error: { statusCode: 500, code: 'Internal Error' } }), 'rules[0].error.code: must be an exception name'],
    ['both an error and an action', withRule({ service: 'sns', action: 'drop', error: { statusCode: 500, code: 'InternalError' } }), 'rules[0]: a rule has either "error" (an API fault) or "action" (a delivery fault), not both'],
    ['neither an error nor an action', withRule({ service: 'sns', probability: 0.5 }), 'rules[0]: a rule has either "error" (an API fault) or "action" (a delivery fault), not neither'],
    ['a delay without delayMs', withRule({ service: 'sns', action: 'delay' }), 'rules[0].delayMs: a delay needs delayMs (1–900000 ms)'],
    ['delayMs on another action', withRule({ service: 'sns', action: 'drop', delayMs: 10 }), 'rules[0].delayMs: only the "delay" action takes it'],
    ['a delay beyond 15 minutes', withRule({ service: 'events', action: 'delay', delayMs: 900_001 }), 'rules[0].delayMs: must be an integer from 1 to 900000, got 900001'],
    ['a narrowing field of another service', withRule({ service: 'sns', action: 'drop', function: 'imagegen-complete' }), 'rules[0].function: sns rules are narrowed by "topic", not "function"'],
    ['an operation on a delivery fault', withRule({ service: 'sns', action: 'drop', operation: 'Publish' }), 'rules[0].operation: only an API fault ("error") is narrowed by operation'],
    ['a narrowing field on an API fault', withRule({ service: 'lambda', function: 'x', error: { statusCode: 500, code: 'ServiceException' } }), 'rules[0].function: only a delivery fault ("action") takes it'],
    ['a seed out of range', { seed: -1, rules: [] }, 'seed: must be an integer from 0 to 4294967295, got -1'],
    ['rules that are not a list', { rules: { service: 'sns' } }, 'rules: must be an array of rules'],
    ['a document that is not an object', [EXAMPLE], 'the fault document: must be a JSON object'],
  ])('refuses %s, naming the field', (_what, document, message) => {
    expect(() => parse(document)).toThrow(message);
  });

  it('points at the rule that is wrong, by its index', () => {
    expect(() => parse({ rules: [...EXAMPLE.rules, { service: 'sagemaker', action: 'explode' }] })).toThrow(/^rules\[9\]\.action: "explode"/);
  });
});

describe('FaultInjector', () => {
  const injector = (document: unknown) => {
    const faults = new FaultInjector({ chooseSeed: () => 1 });
    faults.describe(SERVICES);
    faults.replace(document);
    return faults;
  };

  it('is off until rules are put in force, and then answers nothing', () => {
    const faults = new FaultInjector();
    faults.describe(SERVICES);
    expect(faults.active).toBe(false);
    expect(faults.current()).toEqual({ rules: [] });
    expect(faults.apiError('s3', 'GetObject')).toBeUndefined();
    expect(faults.delivery('sns', { name: 't', arn: 'arn:t' }, 'm')).toBeUndefined();
  });

  it('keeps the rules in force when a replacement is refused: nothing is half-applied', () => {
    const faults = injector(EXAMPLE);
    expect(() => faults.replace({ rules: [{ service: 'sns', action: 'drop' }, { service: 'sns', action: 'explode' }] })).toThrow('rules[1].action');
    expect(faults.current()).toEqual(parse(EXAMPLE));
    expect(faults.active).toBe(true);
  });

  it('turns off with an empty rule list', () => {
    const faults = injector(EXAMPLE);
    faults.replace({ rules: [] });
    expect(faults.active).toBe(false);
    expect(faults.apiError('s3', 'GetObject')).toBeUndefined();
  });

  it('repeats the same faults for the same seed and the same sequence of decisions', () => {
    const run = () => {
      const faults = injector({ seed: 7, rules: [{ service: 'sns', action: 'drop', probability: 0.3 }, { service: 's3', probability: 0.5, error: { statusCode: 500, code: 'InternalError' } }] });
      const decisions: string[] = [];
      for (let i = 0; i < 200; i++) {
        decisions.push(faults.delivery('sns', { name: 't', arn: 'arn:t' }, 'm')?.kind ?? '-');
        decisions.push(faults.apiError('s3', 'GetObject')?.code ?? '-');
      }
      return decisions;
    };
    const first = run();
    expect(run()).toEqual(first);
    const drops = first.filter((d) => d === 'drop').length;
    // 200 draws at 0.3: far outside 30–90 only if the draws were not uniform.
    expect(drops).toBeGreaterThan(30);
    expect(drops).toBeLessThan(90);
  });

  it('keeps one stream per service: another service drawing more does not shift them', () => {
    const document = { seed: 3, rules: [{ service: 'sns', action: 'drop', probability: 0.5 }, { service: 's3', probability: 0.5, error: { statusCode: 500, code: 'InternalError' } }] };
    const alone = injector(document);
    const mixed = injector(document);
    const sns = (faults: FaultInjector) => faults.delivery('sns', { name: 't', arn: 'arn:t' }, 'm')?.kind ?? '-';
    const aloneDecisions = Array.from({ length: 50 }, () => sns(alone));
    const mixedDecisions = Array.from({ length: 50 }, () => {
      mixed.apiError('s3', 'GetObject');
      return sns(mixed);
    });
    expect(mixedDecisions).toEqual(aloneDecisions);
  });

  it('narrows by operation, topic (name or ARN), function and endpoint', () => {
    const faults = injector({
      rules: [
        { service: 's3', operation: 'GetObject', error: { statusCode: 500, code: 'InternalError' } },
        { service: 'sns', topic: 'imagegen-inference-succeeded', action: 'drop' },
        { service: 'lambda', function: 'imagegen-complete', action: 'crash' },
        { service: 'sagemaker', endpoint: 'other-endpoint', action: 'lose' },
      ],
    });
    expect(faults.apiError('s3', 'PutObject')).toBeUndefined();
    expect(faults.apiError('s3', 'GetObject')).toMatchObject({ code: 'InternalError', status: 500, message: "InternalError (injected by the local cloud's fault rule 0)" });
    const succeeded = { name: 'imagegen-inference-succeeded', arn: 'arn:aws:sns:us-east-1:000000000000:imagegen-inference-succeeded' };
    expect(faults.delivery('sns', succeeded, 'm')).toEqual({ kind: 'drop' });
    expect(faults.delivery('sns', { name: 'imagegen-inference-failed', arn: 'arn:aws:sns:us-east-1:000000000000:imagegen-inference-failed' }, 'm')).toBeUndefined();
    expect(faults.invocation('imagegen-resolve', 'r')).toBeUndefined();
    expect(faults.invocation('imagegen-complete', 'r')).toBe('crash');
    expect(faults.inference('imagegen-sdxl', 'i')).toBeUndefined();
    expect(faults.inference('other-endpoint', 'i')).toBe('lose');
    expect(faults.fired()).toEqual([1, 1, 1, 1]);
  });

  it('tries rules in order: the first whose draw hits decides', () => {
    const faults = injector({ rules: [{ service: 'sns', action: 'delay', delayMs: 5, probability: 1 }, { service: 'sns', action: 'drop', probability: 1 }] });
    expect(faults.delivery('sns', { name: 't', arn: 'arn:t' }, 'm')).toEqual({ kind: 'delay', delayMs: 5 });
    expect(faults.fired()).toEqual([1, 0]);
  });

  it('reports the seed it chose, so a run without one can be repeated', () => {
    const faults = injector({ rules: [{ service: 'sns', action: 'drop', probability: 0.1 }] });
    expect(faults.current()).toEqual({ seed: 1, rules: [{ service: 'sns', action: 'drop', probability: 0.1 }] });
  });
});
