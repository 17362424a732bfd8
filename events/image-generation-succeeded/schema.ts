/** `Image Generation Succeeded` (source `imagegen`): the result detail, also the execution output. */
import { z } from 'zod';
import { resultEventSchema } from '../result-envelope';
import { RESULT_SOURCE } from '../contract';
import { FORMATS } from '../image-generation-requested/schema';

export const DETAIL_TYPE = 'Image Generation Succeeded';
export const SOURCE = RESULT_SOURCE;

export const imageSchema = z
  .object({
    bucket: z.string().min(1),
    key: z.string().min(1),
    uri: z.string().startsWith('s3://'),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    format: z.enum(FORMATS),
    contentType: z.string().startsWith('image/'),
    bytes: z.number().int().positive(),
  })
  .strict();
export type ImageRef = z.infer<typeof imageSchema>;

export const succeededDetailSchema = z
  .object({
    requestId: z.string().min(1),
    cacheKey: z.string().regex(/^[0-9a-f]{64}$/),
    cacheHit: z.boolean(),
    image: imageSchema,
    renditions: z.array(imageSchema),
    timings: z
      .object({
        receivedAt: z.iso.datetime({ offset: true }),
        completedAt: z.iso.datetime({ offset: true }),
        totalMs: z.number().int().nonnegative(),
        inferenceMs: z.number().int().nonnegative().optional(),
      })
      .strict(),
    metadata: z.record(z.string(), z.json()).optional(),
  })
  .strict();
export type SucceededDetail = z.infer<typeof succeededDetailSchema>;

export const succeededEventSchema = resultEventSchema(DETAIL_TYPE, succeededDetailSchema);
export type SucceededEvent = z.infer<typeof succeededEventSchema>;
