/**
 * Readers for the members of a parsed request (JSON protocols' body, Query protocol's decoded
 * parameters). Every emulated service validates its input with these, each with its own error
 * shape: AWS words the same mistake differently per service, so the service supplies the errors.
 */
import type { AwsServiceError } from '../edge/errors';

export type Raw = Readonly<Record<string, unknown>>;

/** How a service words an input mistake. */
export interface InputErrors {
  /** A required member is absent, null or empty. */
  missing(field: string): AwsServiceError;
  /** A member has the wrong JSON type (`expected` is e.g. `a string`, `an integer`). */
  invalid(field: string, detail: string): AwsServiceError;
}

export interface InputReaders {
  requiredString(input: Raw, field: string, options?: { readonly max?: number }): string;
  optionalString(input: Raw, field: string, options?: { readonly max?: number }): string | undefined;
  optionalInteger(input: Raw, field: string, bounds: { readonly min: number; readonly max: number }): number | undefined;
  optionalBoolean(input: Raw, field: string): boolean | undefined;
  /** An object member (`{}` when absent). */
  optionalObject(input: Raw, field: string): Raw;
  /** An array member (`[]` when absent). */
  optionalArray(input: Raw, field: string): readonly unknown[];
}

export function inputReaders(errors: InputErrors): InputReaders {
  const optionalString: InputReaders['optionalString'] = (input, field, options) => {
    const value = input[field];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') throw errors.invalid(field, 'must be a string');
    if (options?.max !== undefined && value.length > options.max) throw errors.invalid(field, `must have length less than or equal to ${options.max}`);
    return value;
  };
  return {
    optionalString,
    requiredString(input, field, options) {
      const value = optionalString(input, field, options);
      if (value === undefined || value === '') throw errors.missing(field);
      return value;
    },
    optionalInteger(input, field, { min, max }) {
      const value = input[field];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw errors.invalid(field, `must be an integer between ${min} and ${max}`);
      }
      return value;
    },
    optionalBoolean(input, field) {
      const value = input[field];
      if (value === undefined || value === null) return undefined;
      if (typeof value !== 'boolean') throw errors.invalid(field, 'must be a boolean');
      return value;
    },
    optionalObject(input, field) {
      const value = input[field];
      if (value === undefined || value === null) return {};
      if (typeof value !== 'object' || Array.isArray(value)) throw errors.invalid(field, 'must be an object');
      return value as Raw;
    },
    optionalArray(input, field) {
      const value = input[field];
      if (value === undefined || value === null) return [];
      if (!Array.isArray(value)) throw errors.invalid(field, 'must be a list');
      return value;
    },
  };
}
