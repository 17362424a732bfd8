/**
 * Maps topology elements to what CloudFormation knows them by, so `Ref`s resolve to tokens
 * (`Ref`/`Fn::GetAtt`) and each rendered resource carries its `<kind>/<name>` in metadata.
 */
import type { CfnResource } from 'aws-cdk-lib';
import type { Ref, ResourceKind } from '../topology/topology';

/** Metadata key on every CloudFormation resource rendered from a topology element. */
export const TOPOLOGY_METADATA_KEY = 'imagegen:topology';
/** Metadata key on supporting resources (log bucket, DLQs) naming the element they serve. */
export const SUPPORTS_METADATA_KEY = 'imagegen:supports';

export interface RenderedResource {
  readonly arn: string;
  readonly name: string;
}

export class TopologyRegistry {
  private readonly items = new Map<string, RenderedResource>();

  register(kind: ResourceKind, name: string, resource: RenderedResource): void {
    const id = topologyId(kind, name);
    if (this.items.has(id)) throw new Error(`topology element ${id} is rendered twice`);
    this.items.set(id, resource);
  }

  get(kind: ResourceKind, name: string): RenderedResource {
    const found = this.items.get(topologyId(kind, name));
    if (!found) throw new Error(`topology element ${topologyId(kind, name)} is referenced before it is rendered (or does not exist)`);
    return found;
  }

  resolve(ref: Ref): string {
    return this.get(ref.kind, ref.name)[ref.attr];
  }
}

export function topologyId(kind: ResourceKind, name: string): string {
  return `${kind}/${name}`;
}

/** Records which topology element a CloudFormation resource renders. */
export function markTopology(resource: CfnResource, kind: ResourceKind, name: string): void {
  resource.addMetadata(TOPOLOGY_METADATA_KEY, topologyId(kind, name));
}

/** Records that a resource exists only to support a topology element. */
export function markSupport(resource: CfnResource, kind: ResourceKind, name: string, role: string): void {
  resource.addMetadata(SUPPORTS_METADATA_KEY, `${topologyId(kind, name)}#${role}`);
}
