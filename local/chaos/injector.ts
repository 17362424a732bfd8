/**
 * The fault injector every service consults at its one delivery point: the edge for API calls,
 * SNS's fan-out, EventBridge's dispatcher, Lambda's invocation, the endpoint's processing. Off by
 * default, and then each hook is one property read (`active`) before the service carries on.
 *
 * Rules are tried in order; each matching rule draws once from its service's stream, and the first
 * draw under the rule's probability decides. A replaced plan applies whole or not at all.
 */
import { AwsServiceError } from '../edge/errors';
import { randomSeed, seededRandom, streamSeed, type Random } from './random';
import { parseFaultPlan, type ApiError, type DeliveryService, type FaultPlan, type FaultRule, type ServiceCatalogue } from './rules';

export type DeliveryFault = { readonly kind: 'drop' } | { readonly kind: 'duplicate' } | { readonly kind: 'delay'; readonly delayMs: number };
export type InvocationFault = 'crash' | 'timeout';
export type InferenceFault = 'model-error' | 'lose';

/** An applied rule, as the services and the log see it. */
export interface FiredFault {
  readonly index: number;
  readonly rule: FaultRule;
}

export interface FaultInjectorOptions {
  /** Each injected fault, for the log. */
  readonly log?: (line: string) => void;
  /** @default a random seed, when a plan names none */
  readonly chooseSeed?: () => number;
}

const OFF: FaultPlan = { seed: 0, rules: [] };

export class FaultInjector {
  /** False when no rule is in force: every hook returns at once. */
  active = false;
  private plan: FaultPlan = OFF;
  private explicitSeed = false;
  private streams = new Map<string, Random>();
  private catalogue: ServiceCatalogue = {};
  private readonly listeners: ((plan: FaultPlan) => void)[] = [];
  private readonly counts: number[] = [];

  constructor(private readonly options: FaultInjectorOptions = {}) {}

  /** The services (and their operations) rules may name; set once the services exist. */
  describe(catalogue: ServiceCatalogue): void {
    this.catalogue = catalogue;
  }

  /** Validates `document` against the services and puts it in force; throws `FaultRuleError`, changing nothing, if it cannot apply. */
  replace(document: unknown): FaultPlan {
    const named = typeof document === 'object' && document !== null && 'seed' in document;
    const plan = parseFaultPlan(document, this.catalogue, this.options.chooseSeed ?? randomSeed);
    this.plan = plan;
    this.explicitSeed = named;
    this.streams = new Map();
    this.counts.length = 0;
    this.counts.push(...plan.rules.map(() => 0));
    this.active = plan.rules.length > 0;
    for (const listener of this.listeners) listener(plan);
    return plan;
  }

  /** The plan in force, as `GET /_imagegen/chaos/faults` answers it: `{ seed, rules }` (`rules: []` when off). */
  current(): { readonly seed?: number; readonly rules: readonly FaultRule[] } {
    if (this.plan.rules.length === 0 && !this.explicitSeed) return { rules: [] };
    return { seed: this.plan.seed, rules: this.plan.rules };
  }

  /** How often each rule of the plan in force has fired, by index. */
  fired(): readonly number[] {
    return [...this.counts];
  }

  /** Called with each plan put in force (a service that decides elsewhere, e.g. in a worker thread). */
  onReplace(listener: (plan: FaultPlan) => void): void {
    this.listeners.push(listener);
  }

  /** Counts (and logs) a fault decided outside this injector, e.g. by DynamoDB's worker. */
  record(index: number, what: string): void {
    if (index >= 0 && index < this.counts.length) this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.options.log?.(`chaos: rule ${index} ${what}`);
  }

  /** An API fault for a call of `operation` on `service`, as the error its SDK raises. */
  apiError(service: string, operation: string | undefined): AwsServiceError | undefined {
    const fired = this.decide(service, (rule) => rule.error !== undefined && (rule.operation === undefined || rule.operation === operation));
    if (!fired?.rule.error) return undefined;
    this.log(fired, `answered ${service} ${operation ?? '(unknown operation)'} with ${fired.rule.error.statusCode} ${fired.rule.error.code}`);
    return toServiceError(fired.rule.error, fired.index);
  }

  /** A delivery fault for a message of SNS (to `target` = the topic) or EventBridge (`target` = the rule). */
  delivery(service: Extract<DeliveryService, 'sns' | 'events'>, target: { readonly name: string; readonly arn: string }, what: string): DeliveryFault | undefined {
    const fired = this.decide(service, (rule) => rule.action !== undefined && narrows(service === 'sns' ? rule.topic : rule.rule, target));
    if (!fired) return undefined;
    this.log(fired, `${fired.rule.action === 'delay' ? `delayed ${fired.rule.delayMs} ms` : `${fired.rule.action === 'drop' ? 'dropped' : 'duplicated'}`}: ${what}`);
    if (fired.rule.action === 'delay') return { kind: 'delay', delayMs: fired.rule.delayMs ?? 0 };
    return { kind: fired.rule.action === 'drop' ? 'drop' : 'duplicate' };
  }

  /** A crash or timeout for one invocation of `functionName`. */
  invocation(functionName: string, requestId: string): InvocationFault | undefined {
    const fired = this.decide('lambda', (rule) => rule.action !== undefined && (rule.function === undefined || rule.function === functionName));
    if (!fired) return undefined;
    this.log(fired, `${fired.rule.action === 'crash' ? 'crashed' : 'timed out'} ${functionName} ${requestId}`);
    return fired.rule.action === 'crash' ? 'crash' : 'timeout';
  }

  /** A model error or a lost request for one inference of `endpointName`. */
  inference(endpointName: string, inferenceId: string): InferenceFault | undefined {
    const fired = this.decide('sagemaker', (rule) => rule.action !== undefined && (rule.endpoint === undefined || rule.endpoint === endpointName));
    if (!fired) return undefined;
    this.log(fired, `${fired.rule.action === 'lose' ? 'lost' : 'failed the model for'} inference ${inferenceId} on ${endpointName}`);
    return fired.rule.action === 'lose' ? 'lose' : 'model-error';
  }

  private decide(service: string, matches: (rule: FaultRule) => boolean): FiredFault | undefined {
    if (!this.active) return undefined;
    const rules = this.plan.rules;
    for (let index = 0; index < rules.length; index++) {
      const rule = rules[index]!;
      if (rule.service !== service || !matches(rule)) continue;
      if (this.stream(service)() < rule.probability) {
        this.counts[index] = (this.counts[index] ?? 0) + 1;
        return { index, rule };
      }
    }
    return undefined;
  }

  private stream(service: string): Random {
    let random = this.streams.get(service);
    if (!random) {
      random = seededRandom(streamSeed(this.plan.seed, service));
      this.streams.set(service, random);
    }
    return random;
  }

  private log(fired: FiredFault, what: string): void {
    this.options.log?.(`chaos: rule ${fired.index} ${what}`);
  }
}

/** The message an injected API fault carries when its rule gives none. */
export function injectedMessage(error: ApiError, index: number): string {
  return error.message ?? `${error.code} (injected by the local cloud's fault rule ${index})`;
}

function toServiceError(error: ApiError, index: number): AwsServiceError {
  return new AwsServiceError(error.code, injectedMessage(error, index), error.statusCode);
}

/** A rule without a narrowing name matches every target; one with a name matches it by name or ARN. */
function narrows(name: string | undefined, target: { readonly name: string; readonly arn: string }): boolean {
  return name === undefined || name === target.name || name === target.arn;
}
