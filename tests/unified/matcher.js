'use strict';
// Matching rules of the unified test format ("Evaluating Matches" in
// ../shared/spec-tests/unified-test-format.md): root-level documents may carry extra keys,
// nested ones may not; key order is free; numbers compare by value across int32/int64/double;
// special operators $$exists, $$type, $$unsetOrMatches, $$matchesEntity, $$sessionLsid, $$lte,
// $$matchAsDocument, $$matchAsRoot, $$matchesHexBytes.

const { EJSON } = require('./driver');

class MatchError extends Error {}

function bsonTypeOf(v) {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'double';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (v instanceof RegExp) return 'regex';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return 'binData';
  switch (v._bsontype) {
    case 'Int32': return 'int';
    case 'Long': return 'long';
    case 'Double': return 'double';
    case 'Decimal128': return 'decimal';
    case 'ObjectId': return 'objectId';
    case 'Timestamp': return 'timestamp';
    case 'Binary': return 'binData';
    case 'BSONRegExp': return 'regex';
    case 'Code': return v.scope ? 'javascriptWithScope' : 'javascript';
    case 'MinKey': return 'minKey';
    case 'MaxKey': return 'maxKey';
    case 'BSONSymbol': return 'symbol';
    case 'DBRef': return 'object';
    default: return 'object';
  }
}

// The driver builds some command fields as Maps (e.g. find's `sort`, to keep key order).
function fromMap(v) {
  return v instanceof Map ? Object.fromEntries(v.entries()) : v;
}

function isNumeric(v) {
  const t = bsonTypeOf(v);
  return t === 'int' || t === 'long' || t === 'double';
}

function toNumber(v) {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v._bsontype === 'Long') return v.toNumber();
  return Number(v.valueOf());
}

function isPlainDocument(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && bsonTypeOf(v) === 'object';
}

function typeMatches(actual, name) {
  const t = bsonTypeOf(actual);
  if (name === 'number') return isNumeric(actual) || t === 'decimal';
  if (t === name) return true;
  // The driver promotes int64 values that fit a JS number to `number`: an integral number
  // may have been either on the wire.
  if (typeof actual === 'number' && Number.isInteger(actual) && name === 'long') return true;
  return false;
}

function describe(v) {
  try {
    return EJSON.stringify(v, { relaxed: true }).slice(0, 200);
  } catch (e) {
    return String(v);
  }
}

function specialOperator(v) {
  if (!isPlainDocument(v)) return null;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0].startsWith('$$')) return keys[0];
  return null;
}

// Asserts that `actual` matches `expected`; throws MatchError naming the path otherwise.
// ctx: { entities } for $$matchesEntity / $$sessionLsid.
function match(expected, actual, ctx, path = '', isRoot = true) {
  actual = fromMap(actual);
  const op = specialOperator(expected);
  if (op) {
    matchOperator(op, expected[op], actual, ctx, path, isRoot);
    return;
  }
  if (isPlainDocument(expected)) {
    if (!isPlainDocument(actual)) {
      throw new MatchError(`${path || '<root>'}: expected a document, got ${describe(actual)}`);
    }
    for (const [key, value] of Object.entries(expected)) {
      const sub = path ? `${path}.${key}` : key;
      const kop = specialOperator(value);
      if (kop === '$$exists') {
        const has = Object.prototype.hasOwnProperty.call(actual, key) && actual[key] !== undefined;
        if (has !== value.$$exists) {
          throw new MatchError(`${sub}: expected ${value.$$exists ? 'present' : 'absent'}` +
              (has ? `, got ${describe(actual[key])}` : ''));
        }
        continue;
      }
      if (kop === '$$unsetOrMatches') {
        if (!Object.prototype.hasOwnProperty.call(actual, key) || actual[key] === undefined) continue;
        match(value.$$unsetOrMatches, actual[key], ctx, sub, false);
        continue;
      }
      if (!Object.prototype.hasOwnProperty.call(actual, key) || actual[key] === undefined) {
        throw new MatchError(`${sub}: missing (expected ${describe(value)})`);
      }
      match(value, actual[key], ctx, sub, false);
    }
    if (!isRoot) {
      for (const key of Object.keys(actual)) {
        if (actual[key] === undefined) continue;
        if (!Object.prototype.hasOwnProperty.call(expected, key)) {
          throw new MatchError(`${path ? path + '.' : ''}${key}: unexpected extra field ` +
              describe(actual[key]));
        }
      }
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) {
      throw new MatchError(`${path || '<root>'}: expected an array, got ${describe(actual)}`);
    }
    if (actual.length !== expected.length) {
      throw new MatchError(`${path || '<root>'}: expected ${expected.length} elements, got ` +
          `${actual.length}: ${describe(actual)}`);
    }
    expected.forEach((e, i) => match(e, actual[i], ctx, `${path}[${i}]`, false));
    return;
  }
  matchScalar(expected, actual, path);
}

function matchScalar(expected, actual, path) {
  const where = path || '<root>';
  if (isNumeric(expected)) {
    if (!isNumeric(actual) || toNumber(expected) !== toNumber(actual)) {
      throw new MatchError(`${where}: expected ${describe(expected)}, got ${describe(actual)}`);
    }
    return;
  }
  const te = bsonTypeOf(expected);
  const ta = bsonTypeOf(actual);
  if (te !== ta) {
    throw new MatchError(`${where}: expected ${te} ${describe(expected)}, got ${ta} ` +
        describe(actual));
  }
  if (EJSON.stringify(expected, { relaxed: false }) !== EJSON.stringify(actual, { relaxed: false })) {
    throw new MatchError(`${where}: expected ${describe(expected)}, got ${describe(actual)}`);
  }
}

function matchOperator(op, arg, actual, ctx, path, isRoot) {
  const where = path || '<root>';
  switch (op) {
    case '$$exists':
      if ((actual !== undefined) !== arg) {
        throw new MatchError(`${where}: expected ${arg ? 'present' : 'absent'}`);
      }
      return;
    case '$$type': {
      const names = Array.isArray(arg) ? arg : [arg];
      if (actual === undefined || !names.some(n => typeMatches(actual, n))) {
        throw new MatchError(`${where}: expected type ${names.join('|')}, got ` +
            `${bsonTypeOf(actual)} ${describe(actual)}`);
      }
      return;
    }
    case '$$unsetOrMatches':
      if (actual === undefined) return;
      match(arg, actual, ctx, path, isRoot);
      return;
    case '$$matchesEntity':
      match(ctx.entities.get(arg, 'bson'), actual, ctx, path, isRoot);
      return;
    case '$$sessionLsid': {
      const lsid = ctx.entities.lsid(arg);
      matchExact(lsid, actual, where);
      return;
    }
    case '$$lte':
      if (!isNumeric(actual) || toNumber(actual) > toNumber(arg)) {
        throw new MatchError(`${where}: expected <= ${describe(arg)}, got ${describe(actual)}`);
      }
      return;
    case '$$matchAsDocument': {
      if (typeof actual !== 'string') throw new MatchError(`${where}: expected a JSON string`);
      match(arg, EJSON.parse(actual, { relaxed: false }), ctx, path, false);
      return;
    }
    case '$$matchAsRoot':
      match(arg, actual, ctx, path, true);
      return;
    case '$$matchesHexBytes': {
      const hex = Buffer.isBuffer(actual) ? actual.toString('hex')
                  : actual && actual.buffer ? Buffer.from(actual.buffer).toString('hex') : null;
      if (hex === null || hex.toLowerCase() !== String(arg).toLowerCase()) {
        throw new MatchError(`${where}: expected bytes ${arg}`);
      }
      return;
    }
    default:
      throw new MatchError(`${where}: unsupported special operator ${op}`);
  }
}

// Exact comparison (outcome data, lsids): no special operators, no extra keys anywhere, key
// order free, numbers by value.
function matchExact(expected, actual, path = '') {
  actual = fromMap(actual);
  if (isPlainDocument(expected)) {
    if (!isPlainDocument(actual)) {
      throw new MatchError(`${path || '<root>'}: expected a document, got ${describe(actual)}`);
    }
    const ek = Object.keys(expected).filter(k => expected[k] !== undefined);
    const ak = Object.keys(actual).filter(k => actual[k] !== undefined);
    for (const k of ak) {
      if (!ek.includes(k)) {
        throw new MatchError(`${path ? path + '.' : ''}${k}: unexpected field ${describe(actual[k])}`);
      }
    }
    for (const k of ek) {
      if (!ak.includes(k)) throw new MatchError(`${path ? path + '.' : ''}${k}: missing`);
      matchExact(expected[k], actual[k], path ? `${path}.${k}` : k);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) {
      throw new MatchError(`${path || '<root>'}: expected ${describe(expected)}, got ` +
          describe(actual));
    }
    expected.forEach((e, i) => matchExact(e, actual[i], `${path}[${i}]`));
    return;
  }
  matchScalar(expected, actual, path);
}

module.exports = { match, matchExact, MatchError, bsonTypeOf, isPlainDocument, describe };
