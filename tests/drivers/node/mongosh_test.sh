#!/usr/bin/env bash
# mongosh --eval against a real eddy serve (URI in $1): the seed workflow's shell side.
set -euo pipefail
MONGOSH=${MONGOSH:-$(dirname "$0")/node_modules/.bin/mongosh}
out=$("$MONGOSH" "$1" --quiet --eval '
  const shop = db.getSiblingDB("shopsh");
  shop.orders.insertMany([{_id: 1, status: "pending", total: 10}, {_id: 2, status: "shipped", total: 20}, {_id: 3, status: "pending", total: 30}]);
  const r = shop.orders.updateMany({status: "pending"}, {$inc: {total: 1}});
  const n = shop.orders.countDocuments({status: "pending"});
  const f = shop.orders.find({total: {$gte: 11}}).sort({total: -1}).limit(1).toArray()[0]._id;
  const g = shop.orders.aggregate([{$group: {_id: "$status", t: {$sum: "$total"}}}, {$sort: {_id: 1}}]).toArray();
  shop.orders.createIndex({status: 1});
  const idx = shop.orders.getIndexes().length;
  const st = shop.stats();
  const cs = shop.orders.stats();
  const stats = {objects: Number(st.objects), collections: st.collections, indexes: st.indexes,
                 dataSize: st.dataSize > 0, count: cs.count, nindexes: cs.nindexes,
                 sizes: Object.keys(cs.indexSizes), totalIndexSize: shop.orders.totalIndexSize() > 0};
  print(JSON.stringify({modified: r.modifiedCount, n: n, f: f, g: g, idx: idx, dbs: db.adminCommand({listDatabases: 1}).databases.map(d => d.name).includes("shopsh"), stats: stats}));
')
expected='{"modified":2,"n":2,"f":3,"g":[{"_id":"pending","t":42},{"_id":"shipped","t":20}],"idx":2,"dbs":true,"stats":{"objects":3,"collections":1,"indexes":2,"dataSize":true,"count":3,"nindexes":2,"sizes":["_id_","status_1"],"totalIndexSize":true}}'
if [ "$(echo "$out" | tail -1)" = "$expected" ]; then
  echo "mongosh: 1 passed, 0 failed"
else
  echo "mongosh output: $out"
  echo "expected:       $expected"
  echo "mongosh: 0 passed, 1 failed"
  exit 1
fi
