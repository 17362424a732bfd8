/**
 * The topology's wiring and its refusals: the request rule (contract: any source but `imagegen`),
 * each function's handler setting naming an export of its entry, and the errors that stop a bad
 * configuration or definition before deployment, each naming what is wrong.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventMatchesPattern } from '../../local/events/pattern';
import { loadSample } from '../../events/samples';
import { requireSizes } from '../../tasks/shared/config';
import { containerEnvironment, defaultConfig, deriveConcurrency, imagegenTopology, names, prefixes } from '../../topology/imagegen-topology';
import { InstanceTypeError, NEURON_INSTANCE_TYPES, modelCopiesPerInstance, neuronInstanceType } from '../../topology/instance-types';
import { DefinitionValueError, findResource, renderDefinitionValues } from '../../topology/topology';

const root = join(__dirname, '..', '..');

/** The error `run` throws, by name and message. */
function failure(run: () => unknown): { name: string; message: string; error: unknown } {
  try {
    run();
  } catch (error) {
    return { name: (error as Error).name, message: (error as Error).message, error };
  }
  throw new Error('expected a failure');
}

describe('the topology', () => {
  it('starts a workflow for a request from any source but its own results source', () => {
    const topology = imagegenTopology();
    const rule = findResource(topology, 'rules', topology.rules.find((r) => r.targets.some((t) => t.kind === 'stateMachine'))!.name);
    const request = loadSample('image-generation-requested', 'minimal');
    expect(eventMatchesPattern(rule.eventPattern!, { ...request, source: 'com.example.shop' })).toBe(true);
    expect(eventMatchesPattern(rule.eventPattern!, { ...request, source: 'imagegen' })).toBe(false);
    // The archive replays what the rule would take, and nothing else.
    expect(topology.buses[0]!.archive?.eventPattern).toEqual(rule.eventPattern);
  });

  it("names for every function a handler its entry module exports (the runtime's _HANDLER)", () => {
    const functions = imagegenTopology().functions;
    expect(functions.length).toBeGreaterThanOrEqual(5);
    for (const fn of functions) {
      const source = readFileSync(join(root, fn.entry), 'utf8');
      expect({ entry: fn.entry, exported: new RegExp(`^export (?:const|async function|function) ${fn.handler}(?=\\s*[=(:<])`, 'm').test(source) }).toEqual({ entry: fn.entry, exported: true });
    }
  });

  it('refuses a lookup of a resource it does not hold, naming the collection and the name', () => {
    expect(failure(() => findResource(imagegenTopology(), 'functions', 'imagegen-nope')).message).toBe('topology has no functions entry named "imagegen-nope"');
  });

  it('refuses a concurrency other than the model copies the instance holds, naming both', () => {
    const { message } = failure(() => containerEnvironment({ ...defaultConfig, maxConcurrentInvocationsPerInstance: defaultConfig.maxConcurrentInvocationsPerInstance + 1 }));
    expect(message).toBe(
      `maxConcurrentInvocationsPerInstance (${defaultConfig.maxConcurrentInvocationsPerInstance + 1}) must equal the model copies of ${defaultConfig.instanceType} (${defaultConfig.maxConcurrentInvocationsPerInstance}): more requests than copies would queue inside the container`,
    );
    expect(() => containerEnvironment(defaultConfig)).not.toThrow();
  });

  it('refuses an instance type the model is not compiled for, listing the ones it is', () => {
    const { name, message, error } = failure(() => neuronInstanceType('ml.g5.xlarge'));
    expect(error).toBeInstanceOf(InstanceTypeError);
    expect(name).toBe('InstanceTypeError');
    expect(message).toBe('instance type "ml.g5.xlarge" is not an Inferentia2 type the model is compiled for: use one of ml.inf2.xlarge, ml.inf2.8xlarge, ml.inf2.24xlarge, ml.inf2.48xlarge');
  });

  it.each([
    ['ml.inf2.xlarge', 1, 2],
    ['ml.inf2.8xlarge', 2, 1],
    ['ml.inf2.24xlarge', 4, 3],
    ['ml.inf2.48xlarge', 2, 12],
    ['ml.inf2.48xlarge', 24, 1],
  ])('%s with %i NeuronCores per model copy holds %i copies', (instanceType, cores, copies) => {
    expect(modelCopiesPerInstance(instanceType, cores)).toBe(copies);
  });

  it.each([0, -2, 1.5, 5])('refuses %s NeuronCores per model copy on ml.inf2.24xlarge, naming both', (cores) => {
    const { error, message } = failure(() => modelCopiesPerInstance('ml.inf2.24xlarge', cores));
    expect(error).toBeInstanceOf(InstanceTypeError);
    expect(message).toBe(`${cores} NeuronCores per model copy does not divide the 12 NeuronCores of ml.inf2.24xlarge`);
  });

  it('gives the endpoint the model volume on every Inferentia2 type (all EBS-only, so SageMaker accepts VolumeSizeInGB)', () => {
    for (const instanceType of Object.keys(NEURON_INSTANCE_TYPES)) {
      const [endpoint] = imagegenTopology(deriveConcurrency({ ...defaultConfig, instanceType })).endpoints;
      expect([instanceType, endpoint!.startup.volumeSizeGb]).toEqual([instanceType, defaultConfig.modelVolumeSizeGb]);
    }
  });

  it('hands Resolve every supported size, in a list its configuration reads back', () => {
    const supportedSizes = ['1024x1024', '768x1344', '1344x768'];
    const resolve = findResource(imagegenTopology({ ...defaultConfig, supportedSizes }), 'functions', names.resolveFunction);
    expect(requireSizes('SUPPORTED_SIZES', resolve.environment as Record<string, string>)).toEqual(supportedSizes);
  });

  it('lets staged inputs and async outputs expire after 7 days and failure objects after 30', () => {
    const [bucket] = imagegenTopology().buckets;
    expect(bucket!.lifecycle).toEqual([
      { prefix: prefixes.inputs, days: 7 },
      { prefix: prefixes.asyncOutput, days: 7 },
      { prefix: prefixes.asyncFailures, days: 30 },
    ]);
  });
});

describe('definition values', () => {
  const definition = '{"TimeoutSeconds": "${ResolveTimeoutSeconds}", "Resource": "${ResolveFunctionArn}"}';

  it('renders each value as a bare number, leaving the ARN placeholders', () => {
    expect(renderDefinitionValues(definition, { ResolveTimeoutSeconds: 5100 })).toBe('{"TimeoutSeconds": 5100, "Resource": "${ResolveFunctionArn}"}');
  });

  it('refuses a value that is not a positive integer, naming it', () => {
    for (const value of [0, 2.5]) {
      const { name, message, error } = failure(() => renderDefinitionValues(definition, { ResolveTimeoutSeconds: value }));
      expect(error).toBeInstanceOf(DefinitionValueError);
      expect({ name, message }).toEqual({ name: 'DefinitionValueError', message: `definition value ResolveTimeoutSeconds must be a positive integer, got ${value}` });
    }
  });

  it('refuses a value the definition has no placeholder for, naming the placeholder', () => {
    expect(failure(() => renderDefinitionValues(definition, { RetryCount: 3 }))).toMatchObject({ name: 'DefinitionValueError', message: 'the definition has no "${RetryCount}" for the value RetryCount' });
  });
});
