/**
 * The AWS requests the task code sends on each request path, by SDK command, and the requests the
 * endpoint makes on its own. test/local/cost/task-calls.test.ts runs each path through the real task
 * cores with recording clients and asserts that these are exactly the commands they send, so the
 * cost model cannot drift from the code.
 */
export const REQUEST_PATHS = ['hit', 'miss', 'joined', 'failure'] as const;
export type RequestPath = (typeof REQUEST_PATHS)[number];

/** Command name (as the SDK names it: `HeadObjectCommand`, lib-dynamodb's `PutCommand`, …) → count. */
export type Calls = Readonly<Record<string, number>>;

export interface PathCalls {
  /** Sent once for every request on the path (Resolve, and Complete's per-waiter work). */
  readonly perRequest: Calls;
  /** Sent once per inference, shared by the requests that wait on it (absent on hits and failures). */
  readonly perInference: Calls;
}

export interface CallAssumptions {
  /** Renditions asked per request; each is looked up (HEAD) and, on a miss, rendered and written once. */
  readonly renditions: number;
}

/**
 * - hit: Resolve heads the original, claims the requestId, heads each rendition (all exist), completes its token.
 * - miss: Resolve heads, claims, writes its waiter, heads again, takes the lease, writes the inference item
 *   and its entry in the reconciler's index, invokes the endpoint, records the output locations. Complete
 *   (once per inference) reads the inference item, heads the original (a duplicate notification finds it),
 *   reads the model output, writes the original, queries the waiters, heads and writes each rendition,
 *   deletes the lease and the index entry; per waiter it completes the token and deletes the waiter item.
 * - joined: as a miss up to the lease, whose conditional write fails (still a billed write), then reads
 *   the lease (is it this execution's own unstarted inference?); Complete then completes this waiter's
 *   token and deletes its item.
 * - failure: an invalid request is rejected before any call; ReportFailure puts the failure event.
 */
export function pathCalls(path: RequestPath, a: CallAssumptions): PathCalls {
  const r = a.renditions;
  const waiterServed = { SendTaskSuccessCommand: 1, DeleteCommand: 1 };
  switch (path) {
    case 'hit':
      return { perRequest: { HeadObjectCommand: 1 + r, PutCommand: 1, SendTaskSuccessCommand: 1 }, perInference: {} };
    case 'miss':
      return {
        perRequest: { HeadObjectCommand: 2, PutCommand: 2, ...waiterServed },
        perInference: {
          UpdateCommand: 2,
          PutCommand: 2,
          InvokeEndpointAsyncCommand: 1,
          GetCommand: 1,
          HeadObjectCommand: 1 + r,
          GetObjectCommand: 1,
          PutObjectCommand: 1 + r,
          QueryCommand: 1,
          DeleteCommand: 2,
        },
      };
    case 'joined':
      return { perRequest: { HeadObjectCommand: 2, PutCommand: 2, UpdateCommand: 1, GetCommand: 1, ...waiterServed }, perInference: {} };
    case 'failure':
      return { perRequest: { PutEventsCommand: 1 }, perInference: {} };
  }
}

/** What the endpoint itself does per inference: writes the `.out` object and publishes its notification. */
export const ENDPOINT_CALLS_PER_INFERENCE = { s3Puts: 1, snsMessages: 1 } as const;

const S3_PUT = ['PutObjectCommand'];
const S3_GET = ['HeadObjectCommand', 'GetObjectCommand'];
const DYNAMO_WRITE = ['PutCommand', 'UpdateCommand', 'DeleteCommand'];
/** Strongly consistent reads of items under 4 KB: one read request unit each. */
const DYNAMO_READ = ['GetCommand', 'QueryCommand'];

export interface BilledRequests {
  readonly s3Puts: number;
  readonly s3Gets: number;
  readonly dynamoWrites: number;
  readonly dynamoReads: number;
  /** PutEvents entries sent by a function (not by a workflow state). */
  readonly functionEvents: number;
}

/** The billed requests of a set of calls (a conditional write that fails is still a billed write). */
export function billed(calls: Calls, share = 1): BilledRequests {
  const sum = (names: readonly string[]) => share * names.reduce((n, name) => n + (calls[name] ?? 0), 0);
  return { s3Puts: sum(S3_PUT), s3Gets: sum(S3_GET), dynamoWrites: sum(DYNAMO_WRITE), dynamoReads: sum(DYNAMO_READ), functionEvents: sum(['PutEventsCommand']) };
}
