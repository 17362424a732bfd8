/**
 * Where S3 keeps its state: objects as plain files under `<dataDir>/s3/<bucket>/<key>`, each
 * object's metadata in a JSON sidecar under `<dataDir>/s3-meta/<bucket>/objects/`, multipart
 * uploads in progress under `<dataDir>/s3-multipart/<uploadId>/`.
 *
 * Every write goes to a temp file on the same filesystem, is synced, renamed into place and its
 * directory synced before the request is answered, so a crash (of the process or of the machine)
 * leaves either the old or the new object, never a torn one, and never loses an answered write.
 * The data file is renamed before its sidecar is written; on load a sidecar whose size or mtime no
 * longer matches its file is rebuilt from the file, so the two cannot stay out of step after a
 * crash between the renames.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { renameDurably, syncDirectory, writeFileDurably, writeFileDurablySync } from '../shared/durable-file';
import { collisionRelativePath, containedPath, keyToRelativePath } from './key-paths';
import { compareUtf8, type MultipartUpload, type NewObject, type ObjectMeta, type PartInfo } from './models';

interface BucketState {
  readonly creationDate: number;
  readonly objects: Map<string, ObjectMeta>;
  sortedKeys: string[] | undefined;
}

export class FileObjectStore {
  private readonly buckets = new Map<string, BucketState>();
  private readonly locks = new Map<string, Promise<unknown>>();
  readonly tmpDir: string;
  private readonly multipartDir: string;

  constructor(private readonly dataDir: string) {
    this.tmpDir = join(dataDir, 's3-tmp');
    this.multipartDir = join(dataDir, 's3-multipart');
    mkdirSync(this.multipartDir, { recursive: true });
    // Leftover temp files are writes that never committed.
    rmSync(this.tmpDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(join(dataDir, 's3'), { recursive: true });
    mkdirSync(join(dataDir, 's3-meta'), { recursive: true });
    for (const name of readdirSync(join(dataDir, 's3-meta'))) {
      const bucketFile = join(dataDir, 's3-meta', name, 'bucket.json');
      if (existsSync(bucketFile)) this.loadBucket(name, JSON.parse(readFileSync(bucketFile, 'utf8')) as { creationDate: number });
    }
  }

  bucketNames(): { name: string; creationDate: number }[] {
    return [...this.buckets].map(([name, b]) => ({ name, creationDate: b.creationDate })).sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  createBucket(name: string, now: number): void {
    if (this.buckets.has(name)) return;
    mkdirSync(this.bucketDir(name), { recursive: true });
    mkdirSync(join(this.metaDir(name), 'objects'), { recursive: true });
    writeFileDurablySync(join(this.metaDir(name), 'bucket.json'), JSON.stringify({ creationDate: now }));
    this.buckets.set(name, { creationDate: now, objects: new Map(), sortedKeys: undefined });
  }

  isEmpty(bucket: string): boolean {
    return (this.buckets.get(bucket)?.objects.size ?? 0) === 0;
  }

  async deleteBucket(name: string): Promise<void> {
    this.buckets.delete(name);
    await rm(this.metaDir(name), { recursive: true, force: true });
    await rm(this.bucketDir(name), { recursive: true, force: true });
  }

  head(bucket: string, key: string): ObjectMeta | undefined {
    return this.buckets.get(bucket)?.objects.get(key);
  }

  /** Keys of a bucket in UTF-8 binary order, as S3 lists them. */
  sortedKeys(bucket: string): readonly string[] {
    const state = this.buckets.get(bucket);
    if (!state) return [];
    state.sortedKeys ??= [...state.objects.keys()].sort(compareUtf8);
    return state.sortedKeys;
  }

  async read(meta: ObjectMeta, bucket: string, range?: { start: number; end: number }): Promise<Buffer> {
    const path = containedPath(this.bucketDir(bucket), meta.file);
    if (!range) return readFile(path);
    const handle = await open(path, 'r');
    try {
      const length = range.end - range.start + 1;
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, range.start);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  }

  /** Writes `body` to a fresh temp file, synced, and returns its path (for `commit`). */
  async writeTemp(body: Buffer | readonly string[]): Promise<string> {
    const path = join(this.tmpDir, randomUUID());
    const out = await open(path, 'w');
    try {
      if (Buffer.isBuffer(body)) await out.writeFile(body);
      // Concatenate files (multipart parts) without holding the whole object in memory twice.
      else for (const part of body) await out.write(await readFile(part));
      await out.sync();
    } finally {
      await out.close();
    }
    return path;
  }

  /** Moves a temp file into place as `key` and records its metadata; the etag defaults to its MD5. */
  async commit(bucket: string, key: string, tempPath: string, object: NewObject): Promise<ObjectMeta> {
    return this.withLock(bucket, key, async () => {
      const state = this.requireBucket(bucket);
      const bucketDir = this.bucketDir(bucket);
      const info = await stat(tempPath);
      const etag = object.etag ?? `"${createHash('md5').update(await readFile(tempPath)).digest('hex')}"`;
      const previous = state.objects.get(key);
      let file = keyToRelativePath(key);
      try {
        await this.moveInto(tempPath, containedPath(bucketDir, file));
      } catch (error) {
        if (!isPathConflict(error)) throw error;
        // The natural path is a directory of other keys (or lies under another key's file).
        file = collisionRelativePath(key);
        await this.moveInto(tempPath, containedPath(bucketDir, file));
      }
      if (previous && previous.file !== file) await this.removeFile(bucketDir, previous.file);
      const placed = await stat(containedPath(bucketDir, file));
      const meta: ObjectMeta = { ...object, key, file, size: info.size, etag, fileMtimeMs: placed.mtimeMs };
      await this.writeSidecar(bucket, meta);
      state.objects.set(key, meta);
      if (!previous) state.sortedKeys = undefined;
      return meta;
    });
  }

  async delete(bucket: string, key: string): Promise<void> {
    await this.withLock(bucket, key, async () => {
      const state = this.buckets.get(bucket);
      const meta = state?.objects.get(key);
      if (!state || !meta) return;
      await this.removeFile(this.bucketDir(bucket), meta.file);
      await rm(this.sidecarPath(bucket, key), { force: true });
      state.objects.delete(key);
      state.sortedKeys = undefined;
    });
  }

  async createUpload(uploadId: string, upload: MultipartUpload): Promise<void> {
    const dir = this.uploadDir(uploadId);
    mkdirSync(dir, { recursive: true });
    await syncDirectory(this.multipartDir);
    await writeFileDurably(join(dir, 'upload.json'), JSON.stringify(upload));
  }

  /** The upload in progress under `uploadId`; undefined when there is none (never created, completed or aborted). */
  async upload(uploadId: string): Promise<MultipartUpload | undefined> {
    try {
      return JSON.parse(await readFile(join(this.uploadDir(uploadId), 'upload.json'), 'utf8')) as MultipartUpload;
    } catch {
      return undefined;
    }
  }

  /** Part data, then its record, each renamed into place: completion checks the record's ETag. */
  async putPart(uploadId: string, partNumber: number, payload: Buffer, info: PartInfo): Promise<void> {
    const dir = this.uploadDir(uploadId);
    await writeFileDurably(join(dir, `${partNumber}.part`), payload, join(dir, `${partNumber}.part.tmp`));
    await writeFileDurably(join(dir, `${partNumber}.json`), JSON.stringify(info), join(dir, `${partNumber}.json.tmp`));
  }

  /** An uploaded part and its data file; undefined when the part was never (completely) uploaded. */
  async part(uploadId: string, partNumber: number): Promise<{ info: PartInfo; file: string } | undefined> {
    const dir = this.uploadDir(uploadId);
    let info: PartInfo;
    try {
      info = JSON.parse(await readFile(join(dir, `${partNumber}.json`), 'utf8')) as PartInfo;
    } catch {
      return undefined;
    }
    const file = join(dir, `${partNumber}.part`);
    return existsSync(file) ? { info, file } : undefined;
  }

  async deleteUpload(uploadId: string): Promise<void> {
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  /** Upload ids in progress. */
  pendingUploads(): Promise<string[]> {
    return readdir(this.multipartDir);
  }

  private uploadDir(uploadId: string): string {
    return join(this.multipartDir, uploadId);
  }

  private async moveInto(tempPath: string, target: string): Promise<void> {
    await this.makeDirectories(dirname(target));
    await renameDurably(tempPath, target);
  }

  /** Creates `dir` and its missing parents, syncing each parent that gained an entry. */
  private async makeDirectories(dir: string): Promise<void> {
    const first = await mkdir(dir, { recursive: true });
    if (first === undefined) return;
    const created = relative(dirname(first), dir).split(sep);
    let parent = dirname(first);
    for (const name of created) {
      await syncDirectory(parent);
      parent = join(parent, name);
    }
  }

  /** Deletes a data file and the directories it leaves empty (so the path can hold a file again). */
  private async removeFile(bucketDir: string, file: string): Promise<void> {
    const path = containedPath(bucketDir, file);
    await unlink(path).catch(ignoreMissing);
    for (let dir = dirname(path); dir.startsWith(bucketDir) && dir !== bucketDir; dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        break;
      }
    }
  }

  private async writeSidecar(bucket: string, meta: ObjectMeta): Promise<void> {
    const path = this.sidecarPath(bucket, meta.key);
    await this.makeDirectories(dirname(path));
    await writeFileDurably(path, JSON.stringify(meta), join(this.tmpDir, `${randomUUID()}.json`));
  }

  private loadBucket(name: string, info: { creationDate: number }): void {
    const objects = new Map<string, ObjectMeta>();
    const objectsDir = join(this.metaDir(name), 'objects');
    const bucketDir = this.bucketDir(name);
    for (const shard of existsSync(objectsDir) ? readdirSync(objectsDir) : []) {
      for (const entry of readdirSync(join(objectsDir, shard))) {
        const sidecar = join(objectsDir, shard, entry);
        let meta = JSON.parse(readFileSync(sidecar, 'utf8')) as ObjectMeta;
        let fileInfo;
        try {
          fileInfo = statSync(containedPath(bucketDir, meta.file));
        } catch {
          rmSync(sidecar, { force: true });
          continue;
        }
        if (fileInfo.size !== meta.size || fileInfo.mtimeMs !== meta.fileMtimeMs) {
          const digest = createHash('md5').update(readFileSync(containedPath(bucketDir, meta.file))).digest('hex');
          const { partsCount: _partsCount, ...rest } = meta;
          meta = { ...rest, size: fileInfo.size, etag: `"${digest}"`, lastModified: Math.floor(fileInfo.mtimeMs), checksums: {}, fileMtimeMs: fileInfo.mtimeMs };
          writeFileSync(sidecar, JSON.stringify(meta));
        }
        objects.set(meta.key, meta);
      }
    }
    this.buckets.set(name, { creationDate: info.creationDate, objects, sortedKeys: undefined });
  }

  private requireBucket(bucket: string): BucketState {
    const state = this.buckets.get(bucket);
    if (!state) throw new Error(`bucket ${bucket} does not exist`);
    return state;
  }

  private async withLock<T>(bucket: string, key: string, fn: () => Promise<T>): Promise<T> {
    const id = `${bucket}\u0000${key}`;
    const previous = this.locks.get(id) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.locks.set(id, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(id) === tail) this.locks.delete(id);
    }
  }

  private bucketDir(bucket: string): string {
    return join(this.dataDir, 's3', bucket);
  }

  private metaDir(bucket: string): string {
    return join(this.dataDir, 's3-meta', bucket);
  }

  private sidecarPath(bucket: string, key: string): string {
    const digest = createHash('sha256').update(key).digest('hex');
    return join(this.metaDir(bucket), 'objects', digest.slice(0, 2), `${digest}.json`);
  }
}

function isPathConflict(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOTDIR' || code === 'EISDIR' || code === 'EEXIST' || code === 'ENOTEMPTY';
}

function ignoreMissing(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
}
