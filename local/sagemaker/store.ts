/**
 * Where the asynchronous endpoints keep the requests they accepted: table `sagemaker_invocations` of
 * the local cloud's database, one row per request from its 202 until its notification is published.
 * A row holds the whole request (an inline body as base64), its InferenceId and the output and
 * failure objects chosen when it was accepted, so a restart runs it again under the same
 * InferenceId and writes the same keys.
 */
import type { LocalDatabase } from '../shared/database';
import type { AsyncInvokeRequest } from './invoke-request';
import type { Invocation } from './models';

export interface EndpointStore {
  /** Committed before InvokeEndpointAsync answers 202. */
  accept(invocation: Invocation): void;
  /** Its result or error notification is published (or could not be): nothing more is owed. */
  finish(invocation: Invocation): void;
  /** The endpoint's requests not finished, in the order they were accepted. */
  pending(endpointName: string): Invocation[];
}

type RequestDocument = Omit<AsyncInvokeRequest, 'input'> & { readonly input: { kind: 'location'; location: string; object: { bucket: string; key: string } } | { kind: 'inline'; base64: string } };

interface InvocationDocument extends Omit<Invocation, 'request' | 'cancelTtl'> {
  readonly request: RequestDocument;
}

export class SqliteEndpointStore implements EndpointStore {
  constructor(private readonly db: LocalDatabase) {
    db.exec('CREATE TABLE IF NOT EXISTS sagemaker_invocations (id TEXT PRIMARY KEY, endpoint TEXT NOT NULL, invocation TEXT NOT NULL)');
  }

  accept(invocation: Invocation): void {
    this.db.run('INSERT INTO sagemaker_invocations (id, endpoint, invocation) VALUES (?, ?, ?)', invocation.id, invocation.request.endpointName, JSON.stringify(document(invocation)));
  }

  finish(invocation: Invocation): void {
    this.db.run('DELETE FROM sagemaker_invocations WHERE id = ?', invocation.id);
  }

  pending(endpointName: string): Invocation[] {
    return this.db
      .all<{ invocation: string }>('SELECT invocation FROM sagemaker_invocations WHERE endpoint = ? ORDER BY rowid', endpointName)
      .map((row) => revive(JSON.parse(row.invocation) as InvocationDocument));
  }
}

function document(invocation: Invocation): InvocationDocument {
  const { request, cancelTtl: _cancelTtl, ...rest } = invocation;
  const input = request.input.kind === 'inline' ? { kind: 'inline' as const, base64: request.input.body.toString('base64') } : request.input;
  return { ...rest, request: { ...request, input } };
}

function revive(saved: InvocationDocument): Invocation {
  const { input } = saved.request;
  return {
    ...saved,
    request: { ...saved.request, input: input.kind === 'inline' ? { kind: 'inline', body: Buffer.from(input.base64, 'base64') } : input },
  };
}
