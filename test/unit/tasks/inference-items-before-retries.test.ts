/**
 * Inference items written before retries existed lack the attempt fields: they read as a first
 * attempt with no model input to send again and no entry in the reconciler's index.
 */
import { getInference } from '../../../tasks/shared/coordination';
import { TestCloud } from '../../workflows/test-cloud';
import { resolveConfig } from '../../workflows/harness';

let cloud: TestCloud;
beforeAll(async () => {
  cloud = await TestCloud.start();
});
afterAll(() => cloud.close());
beforeEach(() => cloud.reset());

describe('getInference', () => {
  it('reads an item without attempt fields as a first attempt with nothing to resend and no index entry', async () => {
    await cloud.putItem({ pk: 'inference#old', sk: 'inference', inferenceId: 'old', cacheKey: 'k', startedAt: 5, outputLocation: 's3://b/o.out', expiresAt: 2e9 });
    expect(await getInference(cloud.ddb, resolveConfig.tableName, 'old')).toEqual({
      pk: 'inference#old',
      sk: 'inference',
      inferenceId: 'old',
      cacheKey: 'k',
      startedAt: 5,
      outputLocation: 's3://b/o.out',
      expiresAt: 2e9,
      attempt: 1,
      modelInput: '',
      dueSk: '',
    });
  });

  it('keeps the attempt fields an item has, and is undefined for an unknown InferenceId', async () => {
    await cloud.putItem({ pk: 'inference#i2', sk: 'inference', inferenceId: 'i2', cacheKey: 'k', startedAt: 5, attempt: 2, modelInput: '{"inputs":"a cat"}', dueSk: 'd#i2', expiresAt: 2e9 });
    expect(await getInference(cloud.ddb, resolveConfig.tableName, 'i2')).toMatchObject({ attempt: 2, modelInput: '{"inputs":"a cat"}', dueSk: 'd#i2' });
    expect(await getInference(cloud.ddb, resolveConfig.tableName, 'nope')).toBeUndefined();
  });
});
