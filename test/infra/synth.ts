import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mkdtempSync } from 'node:fs';
import { Template } from 'aws-cdk-lib/assertions';
import { createImagegenApp, type ImagegenApp } from '../../infra/imagegen-app';

export interface Synthesized extends ImagegenApp {
  readonly template: Template;
  readonly json: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown>; DependsOn?: string[] }> };
  readonly outdir: string;
}

/**
 * Synthesizes the real app (cdk-nag included) once, without bundling any asset: tests look at the
 * template, not at bundles. A cdk-nag finding makes `synth()` throw, failing the calling suite.
 */
export function synthesize(context: Record<string, unknown> = {}): Synthesized {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'imagegen-cdk-'));
  const built = createImagegenApp({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const assembly = built.app.synth();
  const artifact = assembly.getStackByName(built.stack.stackName);
  const json = JSON.parse(readFileSync(artifact.templateFullPath, 'utf8')) as Synthesized['json'];
  return { ...built, template: Template.fromJSON(json), json, outdir };
}

/** Logical ids of the resources rendered from `<kind>/<name>`. */
export function logicalIdOf(s: Synthesized, kind: string, name: string): string {
  const ids = Object.entries(s.json.Resources)
    .filter(([, r]) => r.Metadata?.['imagegen:topology'] === `${kind}/${name}`)
    .map(([id]) => id);
  if (ids.length !== 1) throw new Error(`expected one resource for ${kind}/${name}, found ${ids.length}`);
  return ids[0]!;
}
