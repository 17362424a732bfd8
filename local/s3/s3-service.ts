/**
 * S3 for the local cloud: REST-XML, path-style (`/bucket/key`), objects persisted as plain files.
 * Also the edge's default for unsigned requests, so an object URL opens in a browser, and the
 * in-process `ObjectStorePort` other emulators (the async endpoint) read and write through.
 *
 * Laid out as LocalStack lays out a service: `provider.ts` (with listing.ts, multipart.ts and
 * request.ts: the operations), `models.ts` (objects, uploads, listing, conditions) and `store.ts`
 * (files and sidecars).
 */
import { systemClock, type Clock } from '../clock';
import type { ServiceHandler } from '../edge/types';
import type { ObjectStorePort } from '../ports';
import { S3Provider } from './provider';
import { validateBucketName, validateKey } from './request';
import { FileObjectStore } from './store';

export interface S3ServiceOptions {
  /** Root of the local cloud's state; objects go under `<dataDir>/s3/<bucket>/<key>`. */
  readonly dataDir: string;
  readonly region: string;
  /** Buckets created at start (existing ones are kept as they are). */
  readonly buckets: readonly string[];
  /** @default systemClock */
  readonly clock?: Clock;
}

export class S3Service implements ObjectStorePort {
  readonly handler: ServiceHandler;
  private readonly store: FileObjectStore;
  private readonly provider: S3Provider;

  constructor(options: S3ServiceOptions) {
    this.store = new FileObjectStore(options.dataDir);
    this.provider = new S3Provider({ region: options.region, clock: options.clock ?? systemClock, store: this.store });
    for (const bucket of options.buckets) {
      validateBucketName(bucket);
      this.store.createBucket(bucket, this.provider.now());
    }
    this.handler = this.provider.handler;
  }

  async getObject(bucket: string, key: string): Promise<{ body: Buffer; contentType: string } | undefined> {
    this.provider.requireBucket(bucket);
    const meta = this.store.head(bucket, key);
    if (!meta) return undefined;
    return { body: await this.store.read(meta, bucket), contentType: meta.contentType };
  }

  async putObject(bucket: string, key: string, body: Buffer, contentType: string): Promise<void> {
    this.provider.requireBucket(bucket);
    validateKey(key);
    await this.provider.commitBody(bucket, key, body, { lastModified: this.provider.now(), contentType, headers: {}, userMetadata: {}, checksums: {} });
  }

  /** Upload ids in progress (for tests and housekeeping). */
  pendingUploads(): Promise<string[]> {
    return this.store.pendingUploads();
  }
}
