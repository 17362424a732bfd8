import { AwsServiceError } from '../../../local/edge/errors';
import { inputReaders } from '../../../local/shared/input';
import { paginate } from '../../../local/shared/pagination';

const read = inputReaders({
  missing: (field) => new AwsServiceError('MissingParameter', `${field} is required`),
  invalid: (field, detail) => new AwsServiceError('InvalidParameterValue', `${field} ${detail}`),
});

describe('inputReaders', () => {
  it('reads present members and leaves absent optional ones undefined', () => {
    const input = { Name: 'a', Count: 3, Flag: false };
    expect(read.requiredString(input, 'Name')).toBe('a');
    expect(read.optionalString(input, 'Other')).toBeUndefined();
    expect(read.optionalInteger(input, 'Count', { min: 1, max: 10 })).toBe(3);
    expect(read.optionalBoolean(input, 'Flag')).toBe(false);
    expect(read.optionalObject(input, 'Missing')).toEqual({});
    expect(read.optionalArray(input, 'Missing')).toEqual([]);
  });

  it("raises the service's own error naming the field and the bound", () => {
    expect(() => read.requiredString({ Name: '' }, 'Name')).toThrow('Name is required');
    expect(() => read.requiredString({}, 'Name')).toThrow(expect.objectContaining({ code: 'MissingParameter' }));
    expect(() => read.optionalString({ Name: 7 }, 'Name')).toThrow('Name must be a string');
    expect(() => read.optionalString({ Name: 'abcd' }, 'Name', { max: 3 })).toThrow('Name must have length less than or equal to 3');
    expect(() => read.optionalInteger({ N: 11 }, 'N', { min: 1, max: 10 })).toThrow('N must be an integer between 1 and 10');
    expect(() => read.optionalInteger({ N: 1.5 }, 'N', { min: 1, max: 10 })).toThrow(expect.objectContaining({ code: 'InvalidParameterValue' }));
    expect(() => read.optionalObject({ O: [] }, 'O')).toThrow('O must be an object');
    expect(() => read.optionalArray({ A: {} }, 'A')).toThrow('A must be a list');
  });
});

describe('paginate', () => {
  const rules = { defaultSize: 2, maxSize: 3, invalidToken: () => new AwsServiceError('InvalidToken', 'bad token') };
  const items = ['a', 'b', 'c', 'd', 'e'];

  it('walks every item exactly once, page by page', () => {
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = paginate(items, undefined, token, rules);
      seen.push(...page.items);
      token = page.nextToken;
      pages += 1;
    } while (token);
    expect(seen).toEqual(items);
    expect(pages).toBe(3);
  });

  it('caps the page size at the service maximum', () => {
    expect(paginate(items, 100, undefined, rules).items).toEqual(['a', 'b', 'c']);
  });

  it('refuses a token it did not issue', () => {
    expect(() => paginate(items, undefined, 'not-a-token', rules)).toThrow('bad token');
    expect(() => paginate(items, undefined, Buffer.from('o:99').toString('base64url'), rules)).toThrow('bad token');
  });
});
