/** `Image Generation Failed` (source `imagegen`). */
import { z } from 'zod';
import { resultEventSchema } from '../result-envelope';
import { ERROR_CODES, RESULT_SOURCE } from '../contract';

export const DETAIL_TYPE = 'Image Generation Failed';
export const SOURCE = RESULT_SOURCE;

export const failedDetailSchema = z
  .object({
    requestId: z.string().min(1).optional(),
    error: z.object({ code: z.enum(ERROR_CODES), message: z.string().min(1) }).strict(),
    metadata: z.record(z.string(), z.json()).optional(),
  })
  .strict();
export type FailedDetail = z.infer<typeof failedDetailSchema>;

export const failedEventSchema = resultEventSchema(DETAIL_TYPE, failedDetailSchema);
export type FailedEvent = z.infer<typeof failedEventSchema>;
