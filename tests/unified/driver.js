'use strict';
// The official Node driver, pinned in tests/drivers/node/package.json (mongodb 7.9.0) and
// installed there by `npm ci` (scripts/install-deps.sh): one copy for every Node-based test.
const path = require('path');

const mongodb = require(path.join(__dirname, '..', 'drivers', 'node', 'node_modules', 'mongodb'));

module.exports = { ...mongodb, EJSON: mongodb.BSON.EJSON };
