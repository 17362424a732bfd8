/**
 * What the console looks at: one state machine, one async endpoint and its scaling, the
 * coordination table. Names only, so the same console can be pointed at a real deployment.
 */
import type { Topology } from '../../topology/topology';
import { arnOf, type Partition } from '../arns';

export interface ConsoleTarget {
  readonly stateMachineArn: string;
  readonly endpointName: string;
  readonly variantName: string;
  /** Application Auto Scaling's id of the endpoint variant. */
  readonly scalableResourceId: string;
  readonly tableName: string;
  /** The images bucket: the only one whose objects the console shows. */
  readonly bucketName: string;
  /** The published utilization metric (namespace, name; dimension `EndpointName`). */
  readonly utilization: { readonly namespace: string; readonly metricName: string };
}

export class ConsoleTargetError extends Error {
  override readonly name = 'ConsoleTargetError';
}

export function consoleTarget(topology: Topology, partition: Partition): ConsoleTarget {
  const machine = topology.stateMachines[0];
  const endpoint = topology.endpoints[0];
  const table = topology.tables[0];
  const bucket = topology.buckets[0];
  if (!machine || !endpoint || !table || !bucket) throw new ConsoleTargetError('the console needs a topology with a state machine, an endpoint, a table and a bucket');
  return {
    stateMachineArn: arnOf('stateMachine', machine.name, partition),
    endpointName: endpoint.name,
    variantName: endpoint.variantName,
    scalableResourceId: `endpoint/${endpoint.name}/variant/${endpoint.variantName}`,
    tableName: table.name,
    bucketName: bucket.name,
    utilization: { namespace: endpoint.scaling.targetTracking.namespace, metricName: endpoint.scaling.targetTracking.metricName },
  };
}
