/**
 * The Inferentia2 instance types the Neuron-compiled model can serve on, and what follows from each:
 * how many model copies fit (one per `neuronCoresPerCopy` NeuronCores), which is both the model
 * server's worker count and the endpoint's MaxConcurrentInvocationsPerInstance.
 */

export interface NeuronInstanceType {
  /** NeuronCores on the instance: 2 per Inferentia2 chip. */
  readonly neuronCores: number;
  /**
   * EBS-only storage: SageMaker accepts a production variant's `VolumeSizeInGB` only for instance
   * types without local NVMe instance storage (the volume is EBS gp2).
   */
  readonly ebsOnly: boolean;
}

/** ml.inf2.* as SageMaker hosting offers them (EC2 Inf2: 1, 1, 6 and 12 Inferentia2 chips, EBS-only). */
export const NEURON_INSTANCE_TYPES: Readonly<Record<string, NeuronInstanceType>> = {
  'ml.inf2.xlarge': { neuronCores: 2, ebsOnly: true },
  'ml.inf2.8xlarge': { neuronCores: 2, ebsOnly: true },
  'ml.inf2.24xlarge': { neuronCores: 12, ebsOnly: true },
  'ml.inf2.48xlarge': { neuronCores: 24, ebsOnly: true },
};

export class InstanceTypeError extends Error {
  override readonly name = 'InstanceTypeError';
}

export function neuronInstanceType(instanceType: string): NeuronInstanceType {
  const known = NEURON_INSTANCE_TYPES[instanceType];
  if (!known) {
    throw new InstanceTypeError(`instance type "${instanceType}" is not an Inferentia2 type the model is compiled for: use one of ${Object.keys(NEURON_INSTANCE_TYPES).join(', ')}`);
  }
  return known;
}

/**
 * Model copies one instance holds: its NeuronCores ÷ the cores each copy takes. Each copy is one
 * model server worker and serves one request at a time, so this is also the instance's concurrency.
 */
export function modelCopiesPerInstance(instanceType: string, neuronCoresPerCopy: number): number {
  const { neuronCores } = neuronInstanceType(instanceType);
  if (!Number.isInteger(neuronCoresPerCopy) || neuronCoresPerCopy < 1 || neuronCores % neuronCoresPerCopy !== 0) {
    throw new InstanceTypeError(`${neuronCoresPerCopy} NeuronCores per model copy does not divide the ${neuronCores} NeuronCores of ${instanceType}`);
  }
  return neuronCores / neuronCoresPerCopy;
}
