/**
 * The grammar of CloudWatch metric math (`MetricDataQuery.Expression`): tokens, operator
 * precedence, function calls, arrays, and the Ids an expression refers to.
 */

export type MathNode =
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'ref'; readonly id: string }
  | { readonly type: 'keyword'; readonly name: string }
  | { readonly type: 'array'; readonly items: readonly MathNode[] }
  | { readonly type: 'call'; readonly name: string; readonly args: readonly MathNode[] }
  | { readonly type: 'unary'; readonly op: string; readonly arg: MathNode }
  | { readonly type: 'binary'; readonly op: string; readonly left: MathNode; readonly right: MathNode };

/** Thrown for any parse or evaluation problem; the caller names the expression's Id. */
export class MetricMathError extends Error {
  override readonly name = 'MetricMathError';
}

interface Token {
  readonly kind: 'number' | 'string' | 'ident' | 'op';
  readonly text: string;
  readonly at: number;
}

const OPERATORS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '^', '!', '(', ')', '[', ']', ','];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const number = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(i));
    if (number) {
      tokens.push({ kind: 'number', text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    const ident = /^[A-Za-z_][A-Za-z0-9_]*/.exec(source.slice(i));
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    if (c === '"' || c === "'") {
      const end = source.indexOf(c, i + 1);
      if (end < 0) throw new MetricMathError(`unterminated string starting at position ${i}`);
      tokens.push({ kind: 'string', text: source.slice(i + 1, end), at: i });
      i = end + 1;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (!op) throw new MetricMathError(`unexpected character '${c}' at position ${i}`);
    tokens.push({ kind: 'op', text: op, at: i });
    i += op.length;
  }
  return tokens;
}

const COMPARISONS = new Set(['==', '!=', '<=', '>=', '<', '>']);

/** Parses an expression; the grammar follows CloudWatch's precedence: OR < AND < NOT < comparison < + - < * / < unary < ^. */
export function parseExpression(source: string): MathNode {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isOp = (text: string): boolean => peek()?.kind === 'op' && peek()?.text === text;
  const isWord = (word: string): boolean => peek()?.kind === 'ident' && peek()?.text === word;
  const expect = (text: string): void => {
    if (!isOp(text)) throw new MetricMathError(`expected '${text}' ${where()}`);
    pos++;
  };
  const where = (): string => {
    const token = peek();
    return token ? `at position ${token.at} ('${token.text}')` : 'at end of expression';
  };

  const or = (): MathNode => {
    let left = and();
    while (isOp('||') || isWord('OR')) {
      pos++;
      left = { type: 'binary', op: '||', left, right: and() };
    }
    return left;
  };
  const and = (): MathNode => {
    let left = not();
    while (isOp('&&') || isWord('AND')) {
      pos++;
      left = { type: 'binary', op: '&&', left, right: not() };
    }
    return left;
  };
  const not = (): MathNode => {
    if (isOp('!') || isWord('NOT')) {
      pos++;
      return { type: 'unary', op: '!', arg: not() };
    }
    return comparison();
  };
  const comparison = (): MathNode => {
    let left = additive();
    while (peek()?.kind === 'op' && COMPARISONS.has(peek()!.text)) {
      const op = tokens[pos++]!.text;
      left = { type: 'binary', op, left, right: additive() };
    }
    return left;
  };
  const additive = (): MathNode => {
    let left = multiplicative();
    while (isOp('+') || isOp('-')) {
      const op = tokens[pos++]!.text;
      left = { type: 'binary', op, left, right: multiplicative() };
    }
    return left;
  };
  const multiplicative = (): MathNode => {
    let left = unary();
    while (isOp('*') || isOp('/')) {
      const op = tokens[pos++]!.text;
      left = { type: 'binary', op, left, right: unary() };
    }
    return left;
  };
  const unary = (): MathNode => {
    if (isOp('-') || isOp('+')) {
      const op = tokens[pos++]!.text;
      return { type: 'unary', op, arg: unary() };
    }
    return power();
  };
  const power = (): MathNode => {
    const base = primary();
    if (isOp('^')) {
      pos++;
      return { type: 'binary', op: '^', left: base, right: unary() };
    }
    return base;
  };
  const list = (close: string): MathNode[] => {
    const items: MathNode[] = [];
    if (isOp(close)) {
      pos++;
      return items;
    }
    for (;;) {
      items.push(or());
      if (isOp(',')) {
        pos++;
        continue;
      }
      expect(close);
      return items;
    }
  };
  const primary = (): MathNode => {
    const token = peek();
    if (!token) throw new MetricMathError('unexpected end of expression');
    pos++;
    if (token.kind === 'number') return { type: 'number', value: Number(token.text) };
    if (token.kind === 'string') return { type: 'string', value: token.text };
    if (token.kind === 'op') {
      if (token.text === '(') {
        const inner = or();
        expect(')');
        return inner;
      }
      if (token.text === '[') return { type: 'array', items: list(']') };
      throw new MetricMathError(`unexpected '${token.text}' at position ${token.at}`);
    }
    if (isOp('(')) {
      pos++;
      return { type: 'call', name: token.text, args: list(')') };
    }
    // Ids start with a lower-case letter; bare upper-case words are keywords (REPEAT, LINEAR).
    if (/^[a-z]/.test(token.text)) return { type: 'ref', id: token.text };
    return { type: 'keyword', name: token.text };
  };

  const node = or();
  if (pos < tokens.length) throw new MetricMathError(`unexpected ${where()}`);
  return node;
}

/** Ids an expression refers to (to order evaluation and reject unknown references). */
export function references(node: MathNode): string[] {
  switch (node.type) {
    case 'ref':
      return [node.id];
    case 'array':
      return node.items.flatMap(references);
    case 'call':
      return node.args.flatMap(references);
    case 'unary':
      return references(node.arg);
    case 'binary':
      return [...references(node.left), ...references(node.right)];
    default:
      return [];
  }
}
