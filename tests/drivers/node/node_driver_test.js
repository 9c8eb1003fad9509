// The seed article's order/inventory workflow through the official Node driver against a
// real `eddy serve` (started by the caller; URI in argv[2]). Prints 'N passed, N failed'.
const { MongoClient } = require('mongodb');

const results = [];
function check(name, cond, detail) {
  results.push([name, !!cond]);
  if (!cond) console.log(`FAIL ${name} ${detail !== undefined ? JSON.stringify(detail) : ''}`);
}

async function run(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  await client.connect();
  const db = client.db('shop');
  check('ping', (await db.command({ ping: 1 })).ok === 1);
  await db.collection('inventory').insertMany([
    { _id: 'sku-1', product: 'Keyboard', available: 10, reserved: 0, reservations: [] },
    { _id: 'sku-2', product: 'Mouse', available: 1, reserved: 0, reservations: [] },
  ]);
  await db.collection('customers').insertMany([{ _id: 'c-1', tier: 'gold' }, { _id: 'c-2', tier: 'silver' }]);
  const orders = [];
  for (let i = 1; i <= 10; i++) {
    orders.push({ _id: `o-${i}`, customer_id: `c-${(i % 2) + 1}`, status: i % 3 ? 'pending' : 'shipped', total_amount: 50 * i });
  }
  const ins = await db.collection('orders').insertMany(orders);
  check('insertMany', ins.insertedCount === 10);
  const top = await db.collection('orders').find({ status: 'pending', total_amount: { $gte: 100 } })
    .sort({ total_amount: -1 }).limit(2).project({ total_amount: 1 }).toArray();
  check('find sort limit', top.map((d) => d._id).join() === 'o-10,o-8', top);
  const reserve = async (sku, qty) => (await db.collection('inventory').updateOne(
    { _id: sku, available: { $gte: qty } },
    { $inc: { available: -qty, reserved: qty }, $push: { reservations: { order_id: 'o-1', quantity: qty } } })).modifiedCount;
  check('reserve ok', (await reserve('sku-1', 3)) === 1);
  check('reserve insufficient', (await reserve('sku-2', 2)) === 0);
  const bw = await db.collection('orders').bulkWrite([
    { insertOne: { document: { _id: 'o-11', status: 'pending', total_amount: 5 } } },
    { updateOne: { filter: { _id: 'o-2' }, update: { $set: { status: 'paid' } } } },
    { deleteOne: { filter: { _id: 'o-11' } } },
  ]);
  check('bulkWrite', bw.insertedCount === 1 && bw.modifiedCount === 1 && bw.deletedCount === 1, bw);
  check('deleteOne', (await db.collection('orders').deleteOne({ _id: 'o-10' })).deletedCount === 1);
  check('countDocuments', (await db.collection('orders').countDocuments({ status: 'pending' })) === 5);
  check('estimatedDocumentCount', (await db.collection('orders').estimatedDocumentCount()) === 9);
  const agg = await db.collection('orders').aggregate([
    { $lookup: { from: 'customers', localField: 'customer_id', foreignField: '_id', as: 'c' } },
    { $unwind: '$c' },
    { $group: { _id: '$c.tier', n: { $sum: 1 } } },
    { $sort: { _id: 1 } },
  ]).toArray();
  check('aggregate lookup group', JSON.stringify(agg) === '[{"_id":"gold","n":4},{"_id":"silver","n":5}]', agg);
  await db.collection('customers').createIndex({ tier: 1 }, { unique: true });
  try {
    await db.collection('customers').insertOne({ _id: 'c-3', tier: 'gold' });
    check('unique violation', false);
  } catch (e) {
    check('unique violation', e.code === 11000, e.message);
  }
  const fam = await db.collection('orders').findOneAndUpdate({ _id: 'o-4' }, { $set: { status: 'shipped' } }, { returnDocument: 'after' });
  check('findOneAndUpdate', fam && fam.status === 'shipped', fam);
  const stream = db.collection('orders').watch([{ $match: { operationType: 'update' } }], { fullDocument: 'updateLookup' });
  const next = stream.next();
  await new Promise((r) => setTimeout(r, 200));
  await db.collection('orders').updateOne({ _id: 'o-5' }, { $set: { status: 'shipped' } });
  const ev = await next;
  check('watch update', ev.operationType === 'update' && ev.fullDocument.status === 'shipped' &&
        ev.updateDescription.updatedFields.status === 'shipped', ev);
  await stream.close();
  await client.close();
}

(async () => {
  try {
    await run(process.argv[2]);
  } catch (e) {
    console.log(e);
    results.push(['exception', false]);
  }
  const passed = results.filter((r) => r[1]).length;
  console.log(`node driver: ${passed} passed, ${results.length - passed} failed`);
  process.exit(results.length === passed ? 0 : 1);
})();
