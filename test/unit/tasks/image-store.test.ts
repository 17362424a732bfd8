/**
 * The image store over the local cloud's S3: a HEAD describes an image by its width/height metadata
 * (what Complete writes), an absent object reads as absent, any other failure reaches the caller, and
 * renditions are rendered once each.
 */
import sharp from 'sharp';
import { ensureRenditions, findBytes, headObject, parseS3Uri } from '../../../tasks/shared/store';
import { imageRef } from '../../../tasks/shared/images';
import { TestCloud } from '../../workflows/test-cloud';
import { modelPng } from '../../workflows/harness';
import { failing, s3SlowDown } from './faults';

const BUCKET = 'imagegen-images';

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await TestCloud.start();
});
afterAll(() => cloud.close());
beforeEach(() => cloud.reset());

describe('headObject', () => {
  it('reports the size and the width and height an object carries in its metadata', async () => {
    await cloud.putObject(`s3://${BUCKET}/a.png`, Buffer.alloc(1234), { width: '512', height: '768' });
    expect(await headObject(cloud.s3, BUCKET, 'a.png')).toEqual({ bytes: 1234, width: 512, height: 768 });
  });

  it.each([
    ['absent', undefined],
    ['zero', { width: '0', height: '0' }],
    ['negative', { width: '-512', height: '-768' }],
    ['fractional', { width: '1.5', height: '2.5' }],
    ['not a number', { width: 'wide', height: '' }],
  ])('leaves out dimensions that are %s rather than report an impossible image', async (_, metadata) => {
    await cloud.putObject(`s3://${BUCKET}/a.png`, Buffer.alloc(10), metadata);
    expect(await headObject(cloud.s3, BUCKET, 'a.png')).toEqual({ bytes: 10 });
  });

  it('is undefined for an object that does not exist', async () => {
    expect(await headObject(cloud.s3, BUCKET, 'missing.png')).toBeUndefined();
  });

  it('passes any other failure on (a throttled HEAD is not a cache miss)', async () => {
    await cloud.putObject(`s3://${BUCKET}/a.png`, Buffer.alloc(10));
    await expect(headObject(failing(cloud.s3, 'HeadObjectCommand', s3SlowDown), BUCKET, 'a.png')).rejects.toMatchObject({ name: 'SlowDown' });
  });
});

describe('findBytes', () => {
  it('returns the bytes of an object, undefined for one that does not exist', async () => {
    await cloud.putObject(`s3://${BUCKET}/f.out`, 'failure text');
    expect((await findBytes(cloud.s3, BUCKET, 'f.out'))?.toString()).toBe('failure text');
    expect(await findBytes(cloud.s3, BUCKET, 'missing.out')).toBeUndefined();
  });

  it('passes any other failure on (a throttled GET is not a missing object)', async () => {
    await cloud.putObject(`s3://${BUCKET}/f.out`, 'failure text');
    await expect(findBytes(failing(cloud.s3, 'GetObjectCommand', s3SlowDown), BUCKET, 'f.out')).rejects.toMatchObject({ name: 'SlowDown' });
  });

  it('passes on a missing bucket (a deployment fault, though S3 answers it with 404 too)', async () => {
    await expect(findBytes(cloud.s3, 'imagegen-no-such-bucket', 'f.out')).rejects.toMatchObject({ name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } });
  });
});

describe('parseS3Uri', () => {
  it('splits an s3:// URI into bucket and key', () => {
    expect(parseS3Uri('s3://imagegen-images/async-output/1a2b.out')).toEqual({ bucket: 'imagegen-images', key: 'async-output/1a2b.out' });
  });

  it.each(['https://imagegen-images.s3.amazonaws.com/k', 'xs3://b/k', 'see s3://b/k', 's3://b/', 's3://b', 's3:///k'])('refuses %s, naming it', (uri) => {
    expect(() => parseS3Uri(uri)).toThrow(new Error(`not an s3:// URI: ${uri}`));
  });
});

describe('ensureRenditions', () => {
  it('renders a rendition asked for twice once, and returns a ref for each ask, in order', async () => {
    const original = imageRef(BUCKET, 'images/k/original.png', 'png', 1024, 1024, 1);
    const renditions = [
      { width: 64, format: 'webp' as const },
      { width: 32, format: 'png' as const },
      { width: 64, format: 'webp' as const },
    ];
    const refs = await ensureRenditions(cloud.s3, BUCKET, 'k', original, renditions, modelPng);
    expect(refs.map((r) => r.key)).toEqual(['images/k/64w.webp', 'images/k/32w.png', 'images/k/64w.webp']);
    expect(refs[2]).toEqual(refs[0]);
    // Renditions are rendered concurrently: the order of the writes is not fixed.
    expect(cloud.calls('PutObjectCommand').map((c) => c.input.Key).sort()).toEqual(['images/k/32w.png', 'images/k/64w.webp']);
    const webp = await sharp((await cloud.object('images/k/64w.webp'))!.body).metadata();
    expect([webp.width, webp.height, webp.format]).toEqual([64, 64, 'webp']);
  });
});
