// Change streams through the official Node driver against a real `eddy serve` (URI in argv[2]):
// collection, database and deployment streams, every operation type, each fullDocument /
// fullDocumentBeforeChange mode, each resume option, and $match on operationType,
// fullDocument.* and updateDescription.updatedFields.* (the seed article's inventorySync
// filter). Prints 'N passed, N failed'.
const { MongoClient } = require('mongodb');

const results = [];
function check(name, cond, detail) {
  results.push([name, !!cond]);
  console.log(`${cond ? 'ok  ' : 'FAIL'} ${name} ${!cond && detail !== undefined ? JSON.stringify(detail) : ''}`);
}

// The next n events (fewer if they do not come within the timeout).
async function take(stream, n, timeoutMs = 10000) {
  const out = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n && Date.now() < deadline) {
    const e = await stream.tryNext();
    if (e) out.push(e);
  }
  return out;
}

async function run(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db('ncs');
  await db.dropDatabase();
  const orders = db.collection('orders');
  await db.createCollection('orders');

  // Every operation type on a collection stream.
  let s = orders.watch([], { maxAwaitTimeMS: 200 });
  await s.tryNext();  // opened
  await orders.insertOne({ _id: 1, status: 'new' });
  await orders.updateOne({ _id: 1 }, { $set: { status: 'paid' } });
  await orders.replaceOne({ _id: 1 }, { status: 'replaced' });
  await orders.deleteOne({ _id: 1 });
  await orders.drop();
  let ev = await take(s, 6);
  check('collection: insert update replace delete drop invalidate',
    ev.map((e) => e.operationType).join() === 'insert,update,replace,delete,drop,invalidate', ev.map((e) => e.operationType));
  await s.close();

  // Database and deployment streams.
  s = db.watch([], { maxAwaitTimeMS: 200 });
  const c = client.watch([], { maxAwaitTimeMS: 200 });
  await s.tryNext();
  await c.tryNext();
  await db.collection('a').insertOne({ _id: 1 });
  await client.db('ncs_other').collection('b').insertOne({ _id: 1 });
  await db.collection('a').rename('a2');
  ev = await take(s, 2);
  check('database stream: insert, rename', ev.map((e) => e.operationType).join() === 'insert,rename'
    && ev[1].to.coll === 'a2', ev);
  ev = await take(c, 3);
  check('deployment stream across databases', ev.map((e) => `${e.operationType}:${e.ns.db}`).join()
    === 'insert:ncs,insert:ncs_other,rename:ncs', ev.map((e) => `${e.operationType}:${e.ns.db}`));
  await s.close();
  await c.close();

  // fullDocument / fullDocumentBeforeChange modes.
  await db.createCollection('inv', { changeStreamPreAndPostImages: { enabled: true } });
  const inv = db.collection('inv');
  await inv.insertOne({ _id: 'sku-1', available: 10, reserved: 0 });
  const modes = [
    ['updateLookup', 'off'], ['whenAvailable', 'whenAvailable'], ['required', 'required'], ['default', 'off'],
  ];
  for (const [fd, fdbc] of modes) {
    s = inv.watch([], { fullDocument: fd, fullDocumentBeforeChange: fdbc, maxAwaitTimeMS: 200 });
    await s.tryNext();
    const before = await inv.findOne({ _id: 'sku-1' });
    await inv.updateOne({ _id: 'sku-1' }, { $inc: { available: -1 } });
    const [e] = await take(s, 1);
    const wantFull = fd === 'default' ? undefined : { ...before, available: before.available - 1 };
    const wantPre = fdbc === 'off' ? undefined : before;
    check(`fullDocument ${fd} / fullDocumentBeforeChange ${fdbc}`, e
      && JSON.stringify(e.fullDocument) === JSON.stringify(wantFull)
      && JSON.stringify(e.fullDocumentBeforeChange) === JSON.stringify(wantPre), e);
    await s.close();
  }

  // $match on operationType, fullDocument.* and updateDescription.updatedFields.* — the seed
  // article's inventorySync filter.
  s = inv.watch([{ $match: {
    operationType: 'update',
    'updateDescription.updatedFields.available': { $exists: true },
  } }], { fullDocument: 'updateLookup', maxAwaitTimeMS: 200 });
  const big = orders.watch([{ $match: { operationType: 'insert', 'fullDocument.total_amount': { $gt: 1000 } } }],
    { maxAwaitTimeMS: 200 });
  await s.tryNext();
  await big.tryNext();
  await inv.updateOne({ _id: 'sku-1' }, { $set: { name: 'Keyboard' } });
  await inv.updateOne({ _id: 'sku-1' }, { $inc: { available: -2, reserved: 2 } });
  await orders.insertMany([{ _id: 'o1', total_amount: 50 }, { _id: 'o2', total_amount: 1500 }]);
  ev = await take(s, 1);
  check('$match on updateDescription.updatedFields.available', ev.length === 1
    && ev[0].updateDescription.updatedFields.available === 4 && ev[0].fullDocument.name === 'Keyboard', ev);
  check('no other inventory event', (await take(s, 1, 600)).length === 0);
  ev = await take(big, 1);
  check('$match on fullDocument.total_amount', ev.length === 1 && ev[0].documentKey._id === 'o2', ev);
  await s.close();
  await big.close();

  // Resume options.
  s = orders.watch([], { maxAwaitTimeMS: 200 });
  await s.tryNext();
  await orders.insertMany([{ _id: 'r1' }, { _id: 'r2' }, { _id: 'r3' }]);
  ev = await take(s, 3);
  const token = ev[0]._id;
  const opTime = ev[0].clusterTime;  // inclusive: the stream starts with r1
  await s.close();
  const ids = async (stream, n) => (await take(stream, n)).map((e) => e.documentKey._id).join();
  for (const [name, opts, want] of [
    ['resumeAfter', { resumeAfter: token }, 'r2,r3'],
    ['startAfter', { startAfter: token }, 'r2,r3'],
    ['startAtOperationTime', { startAtOperationTime: opTime }, 'r1,r2,r3'],
  ]) {
    const r = orders.watch([], { ...opts, maxAwaitTimeMS: 200 });
    check(name, (await ids(r, want.split(',').length)) === want);
    await r.close();
  }

  // Bad input: clear errors, other streams unaffected.
  const survivor = orders.watch([], { maxAwaitTimeMS: 200 });
  await survivor.tryNext();
  for (const [name, pipeline, opts, code] of [
    ['malformed token', [], { resumeAfter: { _data: 'nothex' } }, 2],
    ['disallowed stage', [{ $group: { _id: 1 } }], {}, 20],
    ['bad $match operator', [{ $match: { x: { $bogus: 1 } } }], {}, 2],
  ]) {
    try {
      const bad = orders.watch(pipeline, opts);
      await bad.tryNext();
      check(`${name} is refused`, false);
    } catch (e) {
      check(`${name} is refused with code ${code}`, e.code === code, { code: e.code, msg: e.message });
    }
  }
  try {
    await db.command({ aggregate: 'orders', pipeline: [{ $changeStream: { bogusOption: 1 } }], cursor: {} });
    check('unknown $changeStream option is refused', false);
  } catch (e) {
    check('unknown $changeStream option is refused with 40415', e.code === 40415, e.message);
  }
  await orders.insertOne({ _id: 'after-errors' });
  check('other streams are unaffected', (await ids(survivor, 1)) === 'after-errors');
  await survivor.close();
  await client.close();
}

run(process.argv[2]).catch((e) => {
  console.log(`FAIL exception ${e.stack}`);
  results.push(['exception', false]);
}).finally(() => {
  const passed = results.filter((r) => r[1]).length;
  console.log(`node change streams: ${passed} passed, ${results.length - passed} failed`);
  process.exit(results.length - passed === 0 ? 0 : 1);
});
