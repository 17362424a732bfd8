/** The EventBridge envelope of imagegen's result events (source `imagegen`), around a detail schema. */
import { z } from 'zod';
import { RESULT_SOURCE } from './contract';

export function resultEventSchema<DetailType extends string, Detail extends z.ZodType>(detailType: DetailType, detail: Detail) {
  // Loose: EventBridge may add envelope fields (e.g. `replay-name`); the detail itself is strict.
  return z.looseObject({
    version: z.string(),
    id: z.string(),
    'detail-type': z.literal(detailType),
    source: z.literal(RESULT_SOURCE),
    account: z.string(),
    time: z.string(),
    region: z.string(),
    resources: z.array(z.string()),
    detail,
  });
}
