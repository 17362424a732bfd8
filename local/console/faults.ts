/**
 * The fault-injection rules the local cloud is applying, read from its own `GET /_imagegen/chaos/faults`
 * (`{ seed?, rules: [...] }`). A cloud without fault injection answers 404: that, and an empty rule
 * list, both mean "off".
 */
export interface FaultRule {
  readonly service?: string;
  readonly operation?: string;
  readonly action?: string;
  readonly probability?: number;
  readonly error?: { readonly statusCode?: number; readonly code?: string };
  readonly [key: string]: unknown;
}

export type FaultsView = { readonly state: 'off' } | { readonly state: 'on'; readonly seed?: number; readonly rules: readonly FaultRule[] } | { readonly state: 'unknown'; readonly reason: string };

export const FAULTS_PATH = '/_imagegen/chaos/faults';

export async function readFaults(baseUrl: string | undefined, fetchImpl: typeof fetch = fetch): Promise<FaultsView> {
  if (baseUrl === undefined) return { state: 'off' };
  let response: Response;
  try {
    response = await fetchImpl(`${baseUrl}${FAULTS_PATH}`, { headers: { accept: 'application/json' } });
  } catch (error) {
    return { state: 'unknown', reason: `could not read ${FAULTS_PATH}: ${error instanceof Error ? error.message : String(error)}` };
  }
  if (response.status === 404) return { state: 'off' };
  if (!response.ok) return { state: 'unknown', reason: `${FAULTS_PATH} answered ${response.status}` };
  const body = (await response.json().catch(() => undefined)) as { seed?: unknown; rules?: unknown } | undefined;
  if (!body || !Array.isArray(body.rules)) return { state: 'unknown', reason: `${FAULTS_PATH} did not answer { rules: [...] }` };
  if (body.rules.length === 0) return { state: 'off' };
  return { state: 'on', ...(typeof body.seed === 'number' ? { seed: body.seed } : {}), rules: body.rules as FaultRule[] };
}
