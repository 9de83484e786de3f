// The JSON fault finder: it agrees with JSON.parse on what is JSON, says where a text stops being
// JSON, and never quotes the text (error details are written to the append-only audit trail).
import t from 'tap';
import { describeJsonFault, findJsonFault } from '../../src/json-syntax.js';

const parses = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

t.test('faults: position, line, column and what was expected', async (t) => {
  const cases: [string, number, RegExp][] = [
    ['{"userName":"x","password":Pw-1234}', 27, /^a value/],
    ['{"a":1,}', 7, /property name in double quotes/],
    ['{"a" 1}', 5, /':' after a property name/],
    ['{"a":1 "b":2}', 7, /',' or '}' after a property value/],
    ['[1 2]', 3, /',' or ']' after an array element/],
    ['{a:1}', 1, /property name in double quotes or '}'/],
    ['{"userName": ', 13, /^a value/],
    ['{"a":"unterminated', 18, /closing double quote/],
    ['{"a":"line\nbreak"}', 10, /control character/],
    ['{"a":"\\x"}', 6, /valid escape/],
    ['{"a":"\\u12G4"}', 6, /four hexadecimal digits/],
    ['{"a":-}', 6, /a digit/],
    ['{"a":1.}', 7, /after the decimal point/],
    ['{"a":1e+}', 8, /in the exponent/],
    ['{"a":01}', 6, /',' or '}'/],
    ['{} x', 3, /nothing more/],
    ['', 0, /^a value/],
    ["{'a':1}", 1, /property name/],
    ['{"a":tru}', 5, /^a value/],
    ['[1,]', 3, /^a value/],
    ['{\n  "a": 1,\n  "b": oops\n}', 19, /^a value/],
  ];
  for (const [text, position, expected] of cases) {
    t.notOk(parses(text), `${JSON.stringify(text)} is not JSON`);
    const f = findJsonFault(text);
    t.ok(f, `${JSON.stringify(text)}: a fault`);
    t.equal(f?.position, position, `${JSON.stringify(text)}: at ${position}`);
    t.match(f?.expected, expected, `${JSON.stringify(text)}: expected ${expected}`);
  }
  const multiLine = findJsonFault('{\n  "a": 1,\n  "b": oops\n}')!;
  t.equal(multiLine.line, 3);
  t.equal(multiLine.column, 8);
});

t.test('valid JSON has no fault', async (t) => {
  const valid = ['{}', '[]', ' {"a": [1, -2.5e+3, 0, true, false, null, "x\\u00e9\\n\\"", {}]} ', '"s"', '0', '\ufeff{"bom":1}', '[[[[]]]]'];
  for (const text of valid) t.equal(findJsonFault(text), null, JSON.stringify(text));
});

t.test('agrees with JSON.parse on every one-character change of a sample', async (t) => {
  const sample = '{"schemas":["urn:x"],"Operations":[{"op":"replace","value":{"active":false,"n":-1.5e3,"s":"a\\"b\\u00e9"}}],"z":null}';
  const chars = ['"', '{', '}', '[', ']', ':', ',', '\\', 'x', '1', '-', '.', 'e', ' ', '\n', 't'];
  let disagreements = 0;
  let checked = 0;
  for (let i = 0; i < sample.length; i++) {
    const variants = [sample.slice(0, i) + sample.slice(i + 1), ...chars.map((c) => sample.slice(0, i) + c + sample.slice(i + 1))];
    for (const text of variants) {
      checked++;
      if (parses(text) !== (findJsonFault(text) === null)) {
        disagreements++;
        if (disagreements < 5) t.fail(`disagrees with JSON.parse on ${JSON.stringify(text)}`);
      }
    }
  }
  t.equal(disagreements, 0, `no disagreement in ${checked} texts`);
});

t.test('deep nesting neither overflows nor is a fault', async (t) => {
  const deep = '['.repeat(200_000) + ']'.repeat(200_000);
  t.equal(findJsonFault(deep), null);
  const broken = '{"a":'.repeat(100_000) + 'x' + '}'.repeat(100_000);
  t.equal(findJsonFault(broken)?.position, 500_000);
});

t.test('the description says where and what, never the text', async (t) => {
  const text = '{"userName":"x","password":Pw-1234}';
  const said = describeJsonFault(text);
  t.equal(said, 'at line 1, column 28 (character 28): expected a value (a string in double quotes, a number, true, false, null, an object or an array)');
  t.notOk(said.includes('Pw'), 'no part of the value');
  t.match(describeJsonFault('{"userName": '), /^the text ends too early \(line 1, column 14\): expected a value/);
  t.match(describeJsonFault('{"password":"Secret-1\n"}'), /^at line 1, column 22 .*control character/);
});
