'use strict';
// Runs one unified-format test file's tests (../shared/spec-tests/unified-test-format.md)
// against a server with the official Node driver.

const mongodb = require('./driver');
const { match, matchExact, MatchError, isPlainDocument, describe } = require('./matcher');

const { MongoClient, MongoServerError, MongoBulkWriteError, ReadPreference, EJSON } = mongodb;

const SUPPORTED_SCHEMA = [1, 22];  // highest schemaVersion this runner implements
const OPERATION_TIMEOUT_MS = 30000;

class SkipTest extends Error {}
class TestFailure extends Error {}

// ------------------------------------------------------------------------------------------
// Server requirements

function compareVersions(a, b) {
  const pa = String(a).split('.').map(Number);
  const pb = String(b).split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] || 0;
    const y = pb[i] || 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

// Facts about the server under test, read once from the server itself.
class ServerInfo {
  static async load(client) {
    const info = new ServerInfo();
    const admin = client.db('admin');
    const build = await admin.command({ buildInfo: 1 });
    info.version = build.version;
    const hello = await admin.command({ hello: 1 });
    if (hello.msg === 'isdbgrid') info.topology = 'sharded';
    else if (hello.setName) info.topology = 'replicaset';
    else if (hello.serviceId) info.topology = 'load-balanced';
    else info.topology = 'single';
    const status = await admin.command({ connectionStatus: 1 });
    info.auth = Array.isArray(status.authInfo?.authenticatedUsers) &&
                status.authInfo.authenticatedUsers.length > 0;
    info.client = client;
    info.parameters = new Map();
    return info;
  }

  async parameter(name) {
    if (!this.parameters.has(name)) {
      try {
        const reply = await this.client.db('admin').command({ getParameter: 1, [name]: 1 });
        this.parameters.set(name, { found: Object.prototype.hasOwnProperty.call(reply, name),
                                    value: reply[name] });
      } catch (e) {
        this.parameters.set(name, { found: false });
      }
    }
    return this.parameters.get(name);
  }

  // Returns null if `req` is met, else the reason it is not.
  async unmet(req) {
    if (req.minServerVersion && compareVersions(this.version, req.minServerVersion) < 0) {
      return `server ${this.version} < minServerVersion ${req.minServerVersion}`;
    }
    if (req.maxServerVersion && compareVersions(this.version, req.maxServerVersion) > 0) {
      return `server ${this.version} > maxServerVersion ${req.maxServerVersion}`;
    }
    if (req.topologies) {
      const ok = req.topologies.some(t => t === this.topology ||
          (t === 'sharded-replicaset' && this.topology === 'sharded'));
      if (!ok) return `topology ${this.topology} not in [${req.topologies.join(', ')}]`;
    }
    // eddy is not Atlas Serverless.
    if (req.serverless === 'require') return 'requires serverless';
    if (req.auth === true && !this.auth) return 'requires auth';
    if (req.auth === false && this.auth) return 'requires no auth';
    if (req.authMechanism) return `requires auth mechanism ${req.authMechanism}`;
    // The runner is not built with libmongocrypt: CSFLE is unsupported, so csfle:false is met.
    if (req.csfle !== undefined && req.csfle !== false) return 'requires CSFLE';
    if (req.serverParameters) {
      for (const [name, expected] of Object.entries(req.serverParameters)) {
        const p = await this.parameter(name);
        if (!p.found) return `server parameter ${name} unsupported`;
        try {
          matchExact(expected, p.value);
        } catch (e) {
          return `server parameter ${name} is ${describe(p.value)}, not ${describe(expected)}`;
        }
      }
    }
    return null;
  }

  async unmetAny(reqs) {
    if (!reqs || reqs.length === 0) return null;
    const reasons = [];
    for (const r of reqs) {
      const why = await this.unmet(r);
      if (why === null) return null;
      reasons.push(why);
    }
    return reasons.join('; ');
  }
}

// ------------------------------------------------------------------------------------------
// Entities

const SENSITIVE_COMMANDS = new Set(['authenticate', 'saslstart', 'saslcontinue', 'getnonce',
  'createuser', 'updateuser', 'copydbgetnonce', 'copydbsaslstart', 'copydb']);

class ClientEntity {
  constructor(spec, uri) {
    this.spec = spec;
    this.events = [];
    this.recording = true;
    this.observe = new Set(spec.observeEvents || []);
    this.ignore = new Set(spec.ignoreCommandMonitoringEvents || []);
    this.observeSensitive = spec.observeSensitiveCommands === true;
    const url = new URL(uri);
    const options = { monitorCommands: true, serverSelectionTimeoutMS: 10000 };
    for (const [k, v] of Object.entries(spec.uriOptions || {})) {
      if (k === 'readConcernLevel') options.readConcern = { level: v };
      else if (k === 'w') options.writeConcern = { ...(options.writeConcern || {}), w: v };
      else if (k === 'wTimeoutMS') options.writeConcern = { ...(options.writeConcern || {}), wtimeoutMS: v };
      else if (k === 'journal') options.writeConcern = { ...(options.writeConcern || {}), journal: v };
      else url.searchParams.set(k, String(v));
    }
    if (spec.serverApi) options.serverApi = spec.serverApi;
    this.client = new MongoClient(url.toString(), options);
    for (const [name, type] of [['commandStarted', 'commandStartedEvent'],
                                ['commandSucceeded', 'commandSucceededEvent'],
                                ['commandFailed', 'commandFailedEvent']]) {
      this.client.on(name, ev => this.record(type, ev));
    }
  }

  record(type, ev) {
    if (!this.recording || !this.observe.has(type)) return;
    if (this.ignore.has(ev.commandName)) return;
    if (ev.commandName === 'configureFailPoint') return;
    const lower = String(ev.commandName).toLowerCase();
    if (!this.observeSensitive) {
      if (SENSITIVE_COMMANDS.has(lower)) return;
      if ((lower === 'hello' || lower === 'ismaster') &&
          (type !== 'commandStartedEvent' || ev.command?.speculativeAuthenticate ||
           Object.keys(ev.command || {}).length === 0)) {
        if (type === 'commandStartedEvent' || Object.keys(ev.reply || {}).length === 0) return;
      }
    }
    this.events.push({ type, ev });
  }
}

class EntityMap {
  constructor(uri) {
    this.uri = uri;
    this.map = new Map();
  }

  set(id, type, value) {
    if (this.map.has(id)) throw new TestFailure(`entity ${id} is already defined`);
    this.map.set(id, { type, value });
  }

  get(id, type) {
    const e = this.map.get(id);
    if (!e) throw new TestFailure(`entity ${id} is not defined`);
    if (type && e.type !== type) throw new TestFailure(`entity ${id} is a ${e.type}, not ${type}`);
    return e.value;
  }

  has(id) {
    return this.map.has(id);
  }

  typeOf(id) {
    return this.map.get(id)?.type;
  }

  lsid(id) {
    return this.get(id, 'session').session.id;
  }

  async create(entities) {
    for (const entity of entities) {
      const [type, spec] = Object.entries(entity)[0];
      switch (type) {
        case 'client':
          this.set(spec.id, 'client', new ClientEntity(spec, this.uri));
          break;
        case 'database': {
          const c = this.get(spec.client, 'client');
          this.set(spec.id, 'database',
                   c.client.db(spec.databaseName, convertCollOptions(spec.databaseOptions)));
          break;
        }
        case 'collection': {
          const db = this.get(spec.database, 'database');
          this.set(spec.id, 'collection',
                   db.collection(spec.collectionName, convertCollOptions(spec.collectionOptions)));
          break;
        }
        case 'session': {
          const c = this.get(spec.client, 'client');
          const options = { ...(spec.sessionOptions || {}) };
          if (options.defaultTransactionOptions) {
            options.defaultTransactionOptions =
                convertCollOptions(options.defaultTransactionOptions);
          }
          const session = c.client.startSession(options);
          this.set(spec.id, 'session', { session, client: c });
          break;
        }
        default:
          throw new SkipTest(`entity type ${type} is not supported by this runner`);
      }
    }
  }

  // The client entity a database/collection/session/etc. belongs to.
  clientEntityOf(driverObject) {
    for (const { type, value } of this.map.values()) {
      if (type === 'client' && value.client === driverObject) return value;
    }
    return null;
  }

  async close() {
    const errors = [];
    for (const { type, value } of this.map.values()) {
      try {
        if (type === 'changeStream' || type === 'cursor') await withTimeout(value.close(), 5000, 'close');
      } catch (e) {
        errors.push(e);
      }
    }
    for (const { type, value } of this.map.values()) {
      try {
        if (type === 'session') await withTimeout(value.session.endSession(), 5000, 'endSession');
      } catch (e) {
        errors.push(e);
      }
    }
    for (const { type, value } of this.map.values()) {
      try {
        if (type === 'client') await withTimeout(value.client.close(true), 10000, 'client close');
      } catch (e) {
        errors.push(e);
      }
    }
    this.map.clear();
    return errors;
  }
}

function convertReadPreference(rp) {
  if (rp === undefined) return undefined;
  if (typeof rp === 'string') return ReadPreference.fromString(rp);
  const opts = {};
  if (rp.maxStalenessSeconds !== undefined) opts.maxStalenessSeconds = rp.maxStalenessSeconds;
  if (rp.hedge !== undefined) opts.hedge = rp.hedge;
  return new ReadPreference(rp.mode.toLowerCase().replace('preferred', 'Preferred'),
                            rp.tagSets, opts);
}

function convertCollOptions(o) {
  if (!o) return undefined;
  const out = { ...o };
  if (out.readPreference) out.readPreference = convertReadPreference(out.readPreference);
  return out;
}

// ------------------------------------------------------------------------------------------
// Operations

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new TestFailure(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]);
}

// Option conversion shared by all entity operations: `session` names an entity, readPreference
// is an object, returnDocument is spelled "Before"/"After" in the spec.
function commonOptions(args, entities) {
  const opts = { ...args };
  if (opts.session !== undefined) opts.session = entities.get(opts.session, 'session').session;
  if (opts.readPreference !== undefined) opts.readPreference = convertReadPreference(opts.readPreference);
  if (typeof opts.returnDocument === 'string') opts.returnDocument = opts.returnDocument.toLowerCase();
  return opts;
}

function take(opts, ...names) {
  const out = names.map(n => opts[n]);
  for (const n of names) delete opts[n];
  return out;
}

function bulkWriteResultDoc(r) {
  if (!r) return r;
  return {
    deletedCount: r.deletedCount,
    insertedCount: r.insertedCount,
    insertedIds: r.insertedIds,
    matchedCount: r.matchedCount,
    modifiedCount: r.modifiedCount,
    upsertedCount: r.upsertedCount,
    upsertedIds: r.upsertedIds,
  };
}

function clientBulkWriteResultDoc(r) {
  if (!r) return r;
  const doc = {
    insertedCount: r.insertedCount,
    upsertedCount: r.upsertedCount,
    matchedCount: r.matchedCount,
    modifiedCount: r.modifiedCount,
    deletedCount: r.deletedCount,
  };
  const toObj = m => (m ? Object.fromEntries([...m.entries()].map(([k, v]) => [String(k), v])) : m);
  if (r.insertResults) doc.insertResults = toObj(r.insertResults);
  if (r.updateResults) doc.updateResults = toObj(r.updateResults);
  if (r.deleteResults) doc.deleteResults = toObj(r.deleteResults);
  return doc;
}

function clientBulkWriteModels(models) {
  return models.map(m => {
    const [name, spec] = Object.entries(m)[0];
    const { namespace, ...rest } = spec;
    return { name, namespace, ...rest };
  });
}

// Operations whose result is an iterable of root-level documents.
const ITERABLE_RESULTS = new Set(['find', 'aggregate', 'listCollections', 'listDatabases',
  'listIndexes', 'runCursorCommand', 'listSearchIndexes']);

class TestRunner {
  constructor(serverInfo, internalClient, uri) {
    this.serverInfo = serverInfo;
    this.internal = internalClient;
    this.uri = uri;
  }

  async executeOperation(op, entities, state) {
    const args = op.arguments || {};
    if (op.object === 'testRunner') return this.specialOperation(op.name, args, entities, state);
    if (!entities.has(op.object)) throw new TestFailure(`entity ${op.object} is not defined`);
    const type = entities.typeOf(op.object);
    const target = entities.get(op.object);
    const opts = commonOptions(args, entities);
    switch (type) {
      case 'client': return this.clientOperation(op.name, target, opts);
      case 'database': return this.databaseOperation(op.name, target, opts);
      case 'collection': return this.collectionOperation(op.name, target, opts);
      case 'changeStream':
      case 'cursor': return this.cursorOperation(op.name, target, opts);
      case 'session': return this.sessionOperation(op.name, target, opts);
      default: throw new TestFailure(`operation ${op.name} on ${type} entity is not supported`);
    }
  }

  async createChangeStream(watchable, opts) {
    const [pipeline] = take(opts, 'pipeline');
    const stream = watchable.watch(pipeline || [], opts);
    // The aggregate must run now (before the stream is saved), without iterating it.
    await stream.cursor.cursorInit();
    return stream;
  }

  async clientOperation(name, entity, opts) {
    const client = entity.client;
    switch (name) {
      case 'createChangeStream': return this.createChangeStream(client, opts);
      case 'listDatabases': {
        const [filter] = take(opts, 'filter');
        const r = await client.db('admin').admin().listDatabases({ ...opts, filter });
        return r.databases;
      }
      case 'listDatabaseNames': {
        const r = await client.db('admin').admin().listDatabases({ ...opts, nameOnly: true });
        return r.databases.map(d => d.name);
      }
      case 'clientBulkWrite': {
        const [models] = take(opts, 'models');
        return clientBulkWriteResultDoc(await client.bulkWrite(clientBulkWriteModels(models), opts));
      }
      case 'close':
        await client.close();
        return undefined;
      default: throw new TestFailure(`client operation ${name} is not supported`);
    }
  }

  async databaseOperation(name, db, opts) {
    switch (name) {
      case 'createChangeStream': return this.createChangeStream(db, opts);
      case 'aggregate': {
        const [pipeline] = take(opts, 'pipeline');
        return db.aggregate(pipeline, opts).toArray();
      }
      case 'runCommand': {
        const [command] = take(opts, 'command', 'commandName');
        return db.command(command, opts);
      }
      case 'runCursorCommand': {
        const [command] = take(opts, 'command', 'commandName');
        return db.runCursorCommand(command, opts).toArray();
      }
      case 'createCollection': {
        const [collection] = take(opts, 'collection');
        await db.createCollection(collection, opts);
        return undefined;
      }
      case 'dropCollection': {
        const [collection] = take(opts, 'collection');
        return db.dropCollection(collection, opts);
      }
      case 'listCollections': {
        const [filter] = take(opts, 'filter');
        return db.listCollections(filter || {}, opts).toArray();
      }
      case 'listCollectionNames': {
        const [filter] = take(opts, 'filter');
        return (await db.listCollections(filter || {}, { ...opts, nameOnly: true }).toArray())
            .map(c => c.name);
      }
      case 'modifyCollection': {
        const [collection] = take(opts, 'collection');
        const { session, ...rest } = opts;
        return db.command({ collMod: collection, ...rest }, { session });
      }
      case 'dropDatabase': return db.dropDatabase(opts);
      default: throw new TestFailure(`database operation ${name} is not supported`);
    }
  }

  async collectionOperation(name, coll, opts) {
    switch (name) {
      case 'aggregate': {
        const [pipeline] = take(opts, 'pipeline');
        return coll.aggregate(pipeline, opts).toArray();
      }
      case 'bulkWrite': {
        const [requests] = take(opts, 'requests');
        return bulkWriteResultDoc(await coll.bulkWrite(requests, opts));
      }
      case 'countDocuments': {
        const [filter] = take(opts, 'filter');
        return coll.countDocuments(filter, opts);
      }
      case 'count': {
        const [filter] = take(opts, 'filter');
        return coll.count(filter, opts);
      }
      case 'estimatedDocumentCount': return coll.estimatedDocumentCount(opts);
      case 'createChangeStream': return this.createChangeStream(coll, opts);
      case 'createFindCursor': {
        const [filter] = take(opts, 'filter');
        const cursor = coll.find(filter, opts);
        await cursor.hasNext();
        return cursor;
      }
      case 'createIndex': {
        const [keys] = take(opts, 'keys');
        return coll.createIndex(keys, opts);
      }
      case 'dropIndex': {
        const [index] = take(opts, 'name');
        return coll.dropIndex(index, opts);
      }
      case 'dropIndexes': return coll.dropIndexes(opts);
      case 'listIndexes': return coll.listIndexes(opts).toArray();
      case 'listIndexNames': return (await coll.listIndexes(opts).toArray()).map(i => i.name);
      case 'deleteOne':
      case 'deleteMany': {
        const [filter] = take(opts, 'filter');
        return coll[name](filter, opts);
      }
      case 'distinct': {
        const [field, filter] = take(opts, 'fieldName', 'filter');
        return coll.distinct(field, filter, opts);
      }
      case 'find': {
        const [filter] = take(opts, 'filter');
        return coll.find(filter, opts).toArray();
      }
      case 'findOne': {
        const [filter] = take(opts, 'filter');
        return coll.findOne(filter, opts);
      }
      case 'findOneAndDelete': {
        const [filter] = take(opts, 'filter');
        return coll.findOneAndDelete(filter, opts);
      }
      case 'findOneAndReplace': {
        const [filter, replacement] = take(opts, 'filter', 'replacement');
        return coll.findOneAndReplace(filter, replacement, opts);
      }
      case 'findOneAndUpdate': {
        const [filter, update] = take(opts, 'filter', 'update');
        return coll.findOneAndUpdate(filter, update, opts);
      }
      case 'insertOne': {
        const [document] = take(opts, 'document');
        return coll.insertOne(document, opts);
      }
      case 'insertMany': {
        const [documents] = take(opts, 'documents');
        return coll.insertMany(documents, opts);
      }
      case 'replaceOne': {
        const [filter, replacement] = take(opts, 'filter', 'replacement');
        return coll.replaceOne(filter, replacement, opts);
      }
      case 'updateOne':
      case 'updateMany': {
        const [filter, update] = take(opts, 'filter', 'update');
        return coll[name](filter, update, opts);
      }
      case 'rename': {
        const [to] = take(opts, 'to');
        await coll.rename(to, opts);
        return undefined;
      }
      case 'drop': return coll.drop(opts);
      default: throw new TestFailure(`collection operation ${name} is not supported`);
    }
  }

  async cursorOperation(name, cursor, opts) {
    switch (name) {
      case 'iterateUntilDocumentOrError': {
        // A change stream's next() keeps issuing getMores until a document arrives.
        const doc = await cursor.next();
        return doc;
      }
      case 'iterateOnce': return cursor.tryNext();
      case 'close':
        await cursor.close();
        return undefined;
      default: throw new TestFailure(`cursor operation ${name} is not supported`);
    }
  }

  async sessionOperation(name, s, opts) {
    switch (name) {
      case 'endSession':
        await s.session.endSession();
        return undefined;
      case 'startTransaction':
        s.session.startTransaction(convertCollOptions(opts));
        return undefined;
      case 'commitTransaction': return s.session.commitTransaction();
      case 'abortTransaction': return s.session.abortTransaction();
      default: throw new TestFailure(`session operation ${name} is not supported`);
    }
  }

  async listCollectionNames(dbName) {
    return (await this.internal.db(dbName).listCollections({}, { nameOnly: true }).toArray())
        .map(c => c.name);
  }

  async specialOperation(name, args, entities, state) {
    switch (name) {
      case 'failPoint': {
        const c = entities.get(args.client, 'client');
        await c.client.db('admin').command(args.failPoint);
        state.failPoints.push({ client: c.client, name: args.failPoint.configureFailPoint });
        return undefined;
      }
      case 'targetedFailPoint': {
        const s = entities.get(args.session, 'session');
        await s.client.client.db('admin').command(args.failPoint);
        state.failPoints.push({ client: s.client.client, name: args.failPoint.configureFailPoint });
        return undefined;
      }
      case 'assertCollectionExists':
      case 'assertCollectionNotExists': {
        const names = await this.listCollectionNames(args.databaseName);
        const exists = names.includes(args.collectionName);
        if (exists !== (name === 'assertCollectionExists')) {
          throw new TestFailure(`collection ${args.databaseName}.${args.collectionName} ` +
              (exists ? 'exists' : 'does not exist'));
        }
        return undefined;
      }
      case 'assertIndexExists':
      case 'assertIndexNotExists': {
        let indexes = [];
        try {
          indexes = await this.internal.db(args.databaseName).collection(args.collectionName)
              .listIndexes().toArray();
        } catch (e) {
          if (e.code !== 26) throw e;
        }
        const exists = indexes.some(i => i.name === args.indexName);
        if (exists !== (name === 'assertIndexExists')) {
          throw new TestFailure(`index ${args.indexName} on ${args.databaseName}.` +
              `${args.collectionName} ${exists ? 'exists' : 'does not exist'}`);
        }
        return undefined;
      }
      case 'createEntities':
        await entities.create(args.entities);
        return undefined;
      case 'assertSameLsidOnLastTwoCommands':
      case 'assertDifferentLsidOnLastTwoCommands': {
        const c = entities.get(args.client, 'client');
        const started = c.events.filter(e => e.type === 'commandStartedEvent');
        if (started.length < 2) throw new TestFailure(`${name}: fewer than two commands observed`);
        const a = EJSON.stringify(started[started.length - 2].ev.command.lsid);
        const b = EJSON.stringify(started[started.length - 1].ev.command.lsid);
        if ((a === b) !== (name === 'assertSameLsidOnLastTwoCommands')) {
          throw new TestFailure(`${name}: lsids ${a} and ${b}`);
        }
        return undefined;
      }
      case 'wait':
        await new Promise(resolve => setTimeout(resolve, args.ms));
        return undefined;
      default:
        throw new TestFailure(`special operation ${name} is not supported by this runner`);
    }
  }

  // ----------------------------------------------------------------------------------------

  checkResult(op, result, entities) {
    const ctx = { entities };
    if (!Object.prototype.hasOwnProperty.call(op, 'expectResult')) return;
    const expected = op.expectResult;
    if (Array.isArray(expected) && Array.isArray(result) && ITERABLE_RESULTS.has(op.name)) {
      if (expected.length !== result.length) {
        throw new MatchError(`expected ${expected.length} documents, got ${result.length}: ` +
            describe(result));
      }
      expected.forEach((e, i) => match(e, result[i], ctx, `[${i}]`, true));
      return;
    }
    match(expected, result === null ? null : result, ctx, '', true);
  }

  checkError(op, error, entities) {
    const exp = op.expectError;
    const ctx = { entities };
    const isServer = error instanceof MongoServerError;
    if (error instanceof TestFailure || error instanceof MatchError) throw error;
    if (exp.isClientError === true && isServer) {
      throw new TestFailure(`expected a client error, got server error ${errorLine(error)}`);
    }
    if (exp.isClientError === false && !isServer) {
      throw new TestFailure(`expected a server error, got client error ${errorLine(error)}`);
    }
    if (exp.isTimeoutError !== undefined) {
      const isTimeout = error instanceof mongodb.MongoOperationTimeoutError;
      if (isTimeout !== exp.isTimeoutError) {
        throw new TestFailure(`isTimeoutError ${exp.isTimeoutError}, got ${errorLine(error)}`);
      }
    }
    // MongoClient.bulkWrite reports a top-level error in `error.cause`/`errorResponse`.
    const top = error;
    if (exp.errorContains !== undefined &&
        !String(top.message).toLowerCase().includes(exp.errorContains.toLowerCase())) {
      throw new TestFailure(`error message does not contain "${exp.errorContains}": ` +
          errorLine(error));
    }
    if (exp.errorCode !== undefined) {
      if (!isServer || top.code !== exp.errorCode) {
        throw new TestFailure(`expected error code ${exp.errorCode}, got ${errorLine(error)}`);
      }
    }
    if (exp.errorCodeName !== undefined) {
      const codeName = top.codeName ?? top.errorResponse?.codeName;
      if (!isServer || String(codeName).toLowerCase() !== exp.errorCodeName.toLowerCase()) {
        throw new TestFailure(`expected codeName ${exp.errorCodeName}, got ${errorLine(error)}`);
      }
    }
    for (const label of exp.errorLabelsContain || []) {
      if (typeof error.hasErrorLabel !== 'function' || !error.hasErrorLabel(label)) {
        throw new TestFailure(`error lacks label ${label}: ${errorLine(error)}`);
      }
    }
    for (const label of exp.errorLabelsOmit || []) {
      if (typeof error.hasErrorLabel === 'function' && error.hasErrorLabel(label)) {
        throw new TestFailure(`error has label ${label}: ${errorLine(error)}`);
      }
    }
    if (exp.errorResponse !== undefined) {
      if (!error.errorResponse) throw new TestFailure(`error has no server response: ${errorLine(error)}`);
      match(exp.errorResponse, error.errorResponse, ctx, 'errorResponse', true);
    }
    if (exp.writeErrors !== undefined) {
      const actual = error.writeErrors instanceof Map
          ? Object.fromEntries([...error.writeErrors.entries()].map(([k, v]) => [String(k), v]))
          : error.writeErrors;
      if (!actual) throw new TestFailure(`error has no writeErrors: ${errorLine(error)}`);
      const keys = Object.keys(actual).sort();
      const ekeys = Object.keys(exp.writeErrors).sort();
      if (keys.join() !== ekeys.join()) {
        throw new TestFailure(`writeErrors at [${keys}], expected [${ekeys}]`);
      }
      for (const k of ekeys) match(exp.writeErrors[k], actual[k], ctx, `writeErrors.${k}`, true);
    }
    if (exp.writeConcernErrors !== undefined) {
      const actual = error.writeConcernErrors || [];
      if (actual.length !== exp.writeConcernErrors.length) {
        throw new TestFailure(`expected ${exp.writeConcernErrors.length} writeConcernErrors, ` +
            `got ${actual.length}`);
      }
      exp.writeConcernErrors.forEach((e, i) => match(e, actual[i], ctx, `writeConcernErrors[${i}]`, true));
    }
    if (exp.expectResult !== undefined) {
      let partial;
      if (error instanceof MongoBulkWriteError) partial = bulkWriteResultDoc(error.result);
      else if (error.partialResult) partial = clientBulkWriteResultDoc(error.partialResult);
      match(exp.expectResult, partial, ctx, 'result', true);
    }
  }

  async runOperation(op, entities, state) {
    let result;
    let error = null;
    try {
      result = await withTimeout(this.executeOperation(op, entities, state),
                                 OPERATION_TIMEOUT_MS, `operation ${op.name}`);
    } catch (e) {
      error = e;
    }
    if (error instanceof SkipTest) throw error;
    const where = `operation ${state.index} (${op.name} on ${op.object})`;
    if (op.ignoreResultAndError) return;
    try {
      if (op.expectError) {
        if (error === null) {
          throw new TestFailure(`expected an error, got result ${describe(result)}`);
        }
        this.checkError(op, error, entities);
      } else {
        if (error !== null) {
          if (error instanceof TestFailure) throw error;
          throw new TestFailure(`unexpected error ${errorLine(error)}`);
        }
        this.checkResult(op, result, entities);
      }
    } catch (e) {
      if (e instanceof TestFailure || e instanceof MatchError) e.message = `${where}: ${e.message}`;
      throw e;
    }
    if (op.saveResultAsEntity && error === null) {
      let type = 'bson';
      if (result instanceof mongodb.ChangeStream) type = 'changeStream';
      else if (result instanceof mongodb.AbstractCursor) type = 'cursor';
      entities.set(op.saveResultAsEntity, type, result);
    }
  }

  checkEvents(expectedForClients, entities) {
    const ctx = { entities };
    for (const exp of expectedForClients) {
      const eventType = exp.eventType || 'command';
      if (eventType !== 'command') {
        throw new SkipTest(`expectEvents of type ${eventType} are not supported by this runner`);
      }
      const c = entities.get(exp.client, 'client');
      const actual = c.events;
      const expected = exp.events;
      if (exp.ignoreExtraEvents ? actual.length < expected.length
                                : actual.length !== expected.length) {
        throw new TestFailure(`client ${exp.client}: expected ${expected.length} events, got ` +
            `${actual.length}: ${actual.map(a => `${a.ev.commandName}(${a.type.replace('command', '').replace('Event', '')})`).join(', ')}`);
      }
      expected.forEach((e, i) => {
        const [type, spec] = Object.entries(e)[0];
        const a = actual[i];
        const where = `event ${i} (${a.ev.commandName})`;
        try {
          if (a.type !== type) throw new MatchError(`expected ${type}, got ${a.type}`);
          if (spec.commandName !== undefined && spec.commandName !== a.ev.commandName) {
            throw new MatchError(`expected command ${spec.commandName}`);
          }
          if (spec.databaseName !== undefined && spec.databaseName !== a.ev.databaseName) {
            throw new MatchError(`expected database ${spec.databaseName}, got ${a.ev.databaseName}`);
          }
          if (spec.command !== undefined) match(spec.command, a.ev.command, ctx, 'command', true);
          if (spec.reply !== undefined) match(spec.reply, a.ev.reply, ctx, 'reply', true);
          if (spec.hasServerConnectionId !== undefined &&
              (a.ev.serverConnectionId != null) !== spec.hasServerConnectionId) {
            throw new MatchError(`hasServerConnectionId should be ${spec.hasServerConnectionId}`);
          }
          if (spec.hasServiceId !== undefined && (a.ev.serviceId != null) !== spec.hasServiceId) {
            throw new MatchError(`hasServiceId should be ${spec.hasServiceId}`);
          }
        } catch (err) {
          if (err instanceof MatchError) throw new TestFailure(`expectEvents ${where}: ${err.message}`);
          throw err;
        }
      });
    }
  }

  async setUpInitialData(initialData) {
    for (const data of initialData || []) {
      const db = this.internal.db(data.databaseName);
      const wc = { writeConcern: { w: 'majority' } };
      for (const name of [data.collectionName, `enxcol_.${data.collectionName}.esc`,
                          `enxcol_.${data.collectionName}.ecoc`]) {
        try {
          await db.command({ drop: name, ...wc });
        } catch (e) {
          if (e.code !== 26) throw e;
        }
      }
      if (data.createOptions || data.documents.length === 0) {
        await db.command({ create: data.collectionName, ...(data.createOptions || {}), ...wc });
      }
      if (data.documents.length > 0) {
        await db.collection(data.collectionName).insertMany(data.documents, wc);
      }
    }
  }

  async checkOutcome(outcome) {
    for (const data of outcome) {
      const docs = await this.internal.db(data.databaseName).collection(data.collectionName)
          .find({}, { sort: { _id: 1 }, readPreference: 'primary', readConcern: { level: 'local' } })
          .toArray();
      try {
        matchExact(data.documents, docs);
      } catch (e) {
        throw new TestFailure(`outcome ${data.databaseName}.${data.collectionName}: ${e.message}` +
            `; actual ${describe(docs)}`);
      }
    }
  }

  // Runs one test; returns {status: 'passed'|'failed'|'skipped', reason}.
  async runTest(file, test) {
    if (test.skipReason) return { status: 'skipped', reason: `skipReason: ${test.skipReason}` };
    const unmet = await this.serverInfo.unmetAny(test.runOnRequirements);
    if (unmet) return { status: 'skipped', reason: unmet };
    const entities = new EntityMap(this.uri);
    const state = { failPoints: [], index: 0 };
    let failure = null;
    try {
      await this.setUpInitialData(file.initialData);
      await entities.create(file.createEntities || []);
      for (const [i, op] of test.operations.entries()) {
        state.index = i;
        await this.runOperation(op, entities, state);
      }
      for (const { value, type } of entities.map.values()) {
        if (type === 'client') value.recording = false;
      }
      if (test.expectEvents) this.checkEvents(test.expectEvents, entities);
    } catch (e) {
      failure = e;
    }
    for (const fp of state.failPoints) {
      try {
        await withTimeout(fp.client.db('admin').command({ configureFailPoint: fp.name, mode: 'off' }),
                          10000, 'disabling fail point');
      } catch (e) {
        // The client may have been closed by the test: disable through the internal client.
        try {
          await this.internal.db('admin').command({ configureFailPoint: fp.name, mode: 'off' });
        } catch (e2) {
          failure = failure || e2;
        }
      }
    }
    if (!failure && test.outcome) {
      try {
        await this.checkOutcome(test.outcome);
      } catch (e) {
        failure = e;
      }
    }
    await entities.close();
    if (failure instanceof SkipTest) return { status: 'skipped', reason: failure.message };
    if (failure) return { status: 'failed', reason: oneLine(failure) };
    return { status: 'passed' };
  }

  async runFile(file) {
    const version = String(file.schemaVersion).split('.').map(Number);
    if (version[0] !== SUPPORTED_SCHEMA[0] || (version[1] || 0) > SUPPORTED_SCHEMA[1]) {
      return file.tests.map(t => ({ test: t, status: 'failed',
        reason: `schemaVersion ${file.schemaVersion} is newer than this runner supports` }));
    }
    const unmet = await this.serverInfo.unmetAny(file.runOnRequirements);
    const results = [];
    for (const test of file.tests) {
      if (unmet) {
        results.push({ test, status: 'skipped', reason: unmet });
        continue;
      }
      results.push({ test, ...(await this.runTest(file, test)) });
    }
    return results;
  }
}

function errorLine(e) {
  const parts = [e.constructor?.name || 'Error'];
  if (e.code !== undefined) parts.push(`code ${e.code}${e.codeName ? ' ' + e.codeName : ''}`);
  parts.push(JSON.stringify(String(e.message).slice(0, 300)));
  return parts.join(' ');
}

function oneLine(e) {
  const msg = e instanceof TestFailure || e instanceof MatchError ? e.message : errorLine(e);
  return msg.replace(/\s+/g, ' ').slice(0, 600);
}

module.exports = { TestRunner, ServerInfo, compareVersions, SkipTest, TestFailure };
