// Where a JSON text stops being JSON (RFC 8259), said without quoting it: JSON.parse's own message
// quotes up to ~20 characters of the input around the fault, and error details end up in the
// append-only audit trail, where a password typed without quotes could then never be removed.

export interface JsonSyntaxFault {
  /** 0-based offset of the first character that cannot be JSON (the text's length at an early end) */
  position: number;
  line: number;
  column: number;
  /** what the grammar allows at that point, in words */
  expected: string;
}

const VALUE = 'a value (a string in double quotes, a number, true, false, null, an object or an array)';
const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** The first fault of a text that JSON.parse refused; null if this scanner finds none (then say nothing more). */
export function findJsonFault(text: string): JsonSyntaxFault | null {
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  // iterative, with an explicit stack: a body nested 100,000 deep must not overflow the call stack
  const stack: number[] = []; // 0x7b "{" or 0x5b "["
  type Want = 'value' | 'value-or-]' | 'key' | 'key-or-}' | 'colon' | 'after';
  let want: Want = 'value';
  const fault = (expected: string): JsonSyntaxFault => {
    let line = 1;
    let lineStart = 0;
    for (let k = text.indexOf('\n'); k !== -1 && k < i; k = text.indexOf('\n', k + 1)) {
      line++;
      lineStart = k + 1;
    }
    return { position: i, line, column: i - lineStart + 1, expected };
  };
  /** Moves i past a string starting at i (a quote); a fault if it is not one. */
  const string = (): JsonSyntaxFault | null => {
    i++;
    for (;;) {
      if (i >= n) return fault('the closing double quote of a string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return fault('no raw control character (such as a line break) inside a string: escape it');
      if (c === 0x5c) {
        const e = text.charCodeAt(i + 1);
        if (e === 0x75) {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return fault('four hexadecimal digits after \\u');
          i += 6;
        } else if (i + 1 < n && '"\\/bfnrt'.includes(text.charAt(i + 1))) i += 2;
        else return fault('a valid escape after a backslash (\\", \\\\, \\/, \\b, \\f, \\n, \\r, \\t or \\u and four hex digits)');
        continue;
      }
      i++;
    }
  };
  const digits = (): boolean => {
    const start = i;
    while (i < n && text.charCodeAt(i) >= 0x30 && text.charCodeAt(i) <= 0x39) i++;
    return i > start;
  };
  const number = (): JsonSyntaxFault | null => {
    if (text.charCodeAt(i) === 0x2d) i++;
    if (text.charCodeAt(i) === 0x30) i++;
    else if (!digits()) return fault('a digit');
    if (text.charCodeAt(i) === 0x2e) {
      i++;
      if (!digits()) return fault('a digit after the decimal point');
    }
    if (text.charCodeAt(i) === 0x65 || text.charCodeAt(i) === 0x45) {
      i++;
      if (text.charCodeAt(i) === 0x2b || text.charCodeAt(i) === 0x2d) i++;
      if (!digits()) return fault('a digit in the exponent');
    }
    return null;
  };

  for (;;) {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
    const c = i < n ? text.charCodeAt(i) : -1;
    if (want === 'after') {
      const top = stack.at(-1);
      if (top === undefined) return i < n ? fault('nothing more after the JSON value') : null;
      const close = top === 0x7b ? 0x7d : 0x5d;
      if (c === 0x2c) {
        i++;
        want = top === 0x7b ? 'key' : 'value';
      } else if (c === close) {
        i++;
        stack.pop();
      } else return fault(top === 0x7b ? "',' or '}' after a property value" : "',' or ']' after an array element");
      continue;
    }
    if (want === 'colon') {
      if (c !== 0x3a) return fault("':' after a property name");
      i++;
      want = 'value';
      continue;
    }
    if (want === 'key' || want === 'key-or-}') {
      if (want === 'key-or-}' && c === 0x7d) {
        i++;
        stack.pop();
        want = 'after';
        continue;
      }
      if (c !== 0x22) return fault(want === 'key' ? 'a property name in double quotes' : "a property name in double quotes or '}'");
      const f = string();
      if (f) return f;
      want = 'colon';
      continue;
    }
    if (want === 'value-or-]' && c === 0x5d) {
      i++;
      stack.pop();
      want = 'after';
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      stack.push(c);
      i++;
      want = c === 0x7b ? 'key-or-}' : 'value-or-]';
      continue;
    }
    let f: JsonSyntaxFault | null = null;
    if (c === 0x22) f = string();
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) f = number();
    else if (text.startsWith('true', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else if (text.startsWith('null', i)) i += 4;
    else return fault(VALUE);
    if (f) return f;
    want = 'after';
  }
}

/**
 * The fault in words for an error detail, e.g. "at line 1, column 28 (character 28): expected a
 * value (…)" — never the text itself. JSON.parse's message is not used: it quotes the input.
 * firstLine numbers the lines of a text cut from a larger one (a line or an element of a file).
 */
export function describeJsonFault(text: string, firstLine = 1): string {
  const f = findJsonFault(text);
  if (!f) return 'the text is not valid JSON';
  const line = f.line + firstLine - 1;
  if (f.position >= text.length) return `the text ends too early (line ${line}, column ${f.column}): expected ${f.expected}`;
  return `at line ${line}, column ${f.column} (character ${f.position + 1}): expected ${f.expected}`;
}
