import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { createClients } from '../../../tasks/shared/clients';
import { defaultConfig } from '../../../topology/imagegen-topology';
import { TestCloud } from '../../workflows/test-cloud';

type Env = Record<string, string | undefined>;

/** Runs `use` with `vars` set in the process environment (the SDK reads its endpoints there, at the first request), then restores it. */
async function withEnv<T>(vars: Env, use: (env: Env) => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k];
  try {
    return await use(process.env);
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** Where a GetObject for the images bucket would be sent: the request is stopped before it leaves. */
async function addressed(s3: S3Client): Promise<{ hostname: string; path: string }> {
  s3.middlewareStack.add(
    (_next) => async (args) => {
      const { hostname, path } = args.request as { hostname: string; path: string };
      throw Object.assign(new Error('not sent'), { addressed: { hostname, path } });
    },
    { step: 'finalizeRequest', priority: 'low' },
  );
  try {
    await s3.send(new GetObjectCommand({ Bucket: 'imagegen-images', Key: 'images/k/original.png' }));
  } catch (error) {
    const where = (error as { addressed?: { hostname: string; path: string } }).addressed;
    if (where) return where;
    throw error;
  }
  throw new Error('the request was not stopped');
}

describe('the tasks SDK clients', () => {
  it('address a local S3 endpoint by path, the bucket out of the host name (a host like localhost has no bucket subdomains)', async () => {
    const viaAll = await withEnv({ AWS_ENDPOINT_URL: 'http://localhost:4566', AWS_ENDPOINT_URL_S3: undefined }, (env) => addressed(createClients(env).s3));
    expect(viaAll).toEqual({ hostname: 'localhost', path: '/imagegen-images/images/k/original.png' });
    const viaS3Only = await withEnv({ AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: 'http://localhost:4566' }, (env) => addressed(createClients(env).s3));
    expect(viaS3Only).toEqual({ hostname: 'localhost', path: '/imagegen-images/images/k/original.png' });
  });

  it('address AWS S3 virtual-hosted style, as AWS recommends, when no endpoint is set', async () => {
    const where = await withEnv({ AWS_ENDPOINT_URL: undefined, AWS_ENDPOINT_URL_S3: undefined }, (env) => addressed(createClients(env).s3));
    expect(where).toEqual({ hostname: 'imagegen-images.s3.us-east-1.amazonaws.com', path: '/images/k/original.png' });
  });

  describe('against the local cloud', () => {
    let cloud: TestCloud;
    beforeAll(async () => {
      cloud = await TestCloud.start();
    });
    afterAll(() => cloud.close());

    it('write an item whose map holds an optional field left undefined, dropping the field instead of failing the write', async () => {
      const url = await cloud.ddb.config.endpoint!();
      const key = { pk: 'probe#undefined', sk: 'item' };
      const stored = await withEnv({ AWS_ENDPOINT_URL_DYNAMODB: `${url.protocol}//${url.hostname}:${url.port}` }, async (env) => {
        const { ddb } = createClients(env);
        try {
          await ddb.send(new PutCommand({ TableName: defaultConfig.tableName, Item: { ...key, request: { prompt: 'a cat', seed: undefined }, n: 1 } }));
          const item = (await ddb.send(new GetCommand({ TableName: defaultConfig.tableName, Key: key, ConsistentRead: true }))).Item;
          await ddb.send(new DeleteCommand({ TableName: defaultConfig.tableName, Key: key }));
          return item;
        } finally {
          ddb.destroy();
        }
      });
      expect(stored).toEqual({ ...key, request: { prompt: 'a cat' }, n: 1 });
    });
  });
});
