import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LambdaService } from '../../../local/lambda/lambda-service';
import { SqliteLambdaStore } from '../../../local/lambda/store';
import { newSubscription, newTopic } from '../../../local/sns/models';
import { SnsService } from '../../../local/sns/sns-service';
import { SqliteSnsStore } from '../../../local/sns/store';
import { scratchDatabase, type ScratchDatabase } from '../shared/scratch-database';

const PARTITION = { region: 'eu-west-1', account: '123456789012' };
const ROOT = join(__dirname, '../../..');

describe('SqliteSnsStore', () => {
  let scratch: ScratchDatabase;
  beforeEach(() => {
    scratch = scratchDatabase('sns-store');
  });
  afterEach(() => scratch.remove());

  it('reads back topics in creation order with their attributes and subscriptions, and forgets deleted ones', () => {
    const store = new SqliteSnsStore(scratch.db);
    const [one, two, gone] = ['one', 'two', 'gone'].map((name) => newTopic(name, new Map(), PARTITION)) as [ReturnType<typeof newTopic>, ReturnType<typeof newTopic>, ReturnType<typeof newTopic>];
    for (const topic of [one, two, gone]) store.putTopic(topic);
    store.setTopicAttribute(one, 'DisplayName', 'First');
    const kept = newSubscription(two, 'arn:aws:lambda:eu-west-1:123456789012:function:f');
    const dropped = newSubscription(two, 'arn:aws:lambda:eu-west-1:123456789012:function:g');
    store.addSubscription(two, kept);
    store.addSubscription(two, dropped);
    expect(store.removeSubscription(dropped.arn)).toEqual(dropped);
    expect(store.removeSubscription(dropped.arn)).toBeUndefined();
    store.deleteTopic(gone.arn);

    const reread = new SqliteSnsStore(scratch.reopen());
    expect(reread.topics().map((t) => t.name)).toEqual(['one', 'two']);
    expect(reread.topic(one.arn)?.attributes.get('DisplayName')).toBe('First');
    expect(reread.topic(two.arn)?.subscriptions).toEqual([kept]);
  });

  it("commits a publish's fan-out as one transaction: every subscriber's invocation, or none", async () => {
    const log = join(scratch.dir, 'invoked');
    const lambda = new LambdaService({
      ...PARTITION,
      rootDir: ROOT,
      database: scratch.db,
      functions: ['a', 'b'].map((name) => ({ name, entry: 'test/local/lambda/fixtures/handlers.ts', handler: 'recordRequest', memoryMb: 128, timeoutSeconds: 5, environment: { RECORD_FILE: log } })),
    });
    const sns = new SnsService({ ...PARTITION, lambda, database: scratch.db, topics: [{ name: 'done', subscriptions: [{ protocol: 'lambda', function: 'a' }, { protocol: 'lambda', function: 'b' }] }] });
    const store = new SqliteLambdaStore(scratch.db);
    try {
      // The second subscriber's hand-off fails: the first one's must neither stay queued nor run.
      scratch.db.exec("CREATE TEMP TRIGGER fail_second BEFORE INSERT ON lambda_async_invocations WHEN (SELECT count(*) FROM lambda_async_invocations) >= 1 BEGIN SELECT RAISE(ABORT, 'disk full'); END");
      await expect(sns.publish(sns.topicArn('done'), '{}')).rejects.toThrow('disk full');
      await lambda.idle();
      expect(store.pending()).toEqual([]);
      expect(existsSync(log)).toBe(false);

      scratch.db.exec('DROP TRIGGER fail_second');
      await sns.publish(sns.topicArn('done'), '{}');
      expect(store.pending().map((p) => p.invocation.functionName).sort()).toEqual(['a', 'b']);
      await lambda.idle();
      expect(store.pending()).toEqual([]);
      expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(2);
    } finally {
      await lambda.close();
    }
  });
});
