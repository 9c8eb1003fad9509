// Table-driven tests for the update language (query/update/update.h). Each case: input
// document, update, then either the expected document (compared exactly: names, order, types)
// or the expected error code; many also pin the change-stream updateDescription and whether
// the update counts as a modification.
#include "query/update/update.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "bson/json.h"

namespace eddy::query {
namespace {

using bson::Document;
using bson::JsonMode;

struct Case {
  std::string doc;
  std::string update;
  std::string expect = "";   // expected document; empty when an error is expected
  int code = 0;              // expected error code
  std::string desc = "";     // expected updateDescription (optional)
  bool modified = true;      // checked when no error is expected
  std::string filters = "";  // arrayFilters as a JSON array (optional)
  int pos = -1;              // positional match index (optional)
  std::string msg = "";      // substring of the error message (optional)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.doc << " " << c.update; }

Document J(const std::string& text) {
  auto r = bson::ParseJson(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? r.value() : Document();
}

std::string S(const Document& d) { return bson::ToJson(d, JsonMode::kShell); }

void RunCase(const Case& c) {
  SCOPED_TRACE("doc=" + c.doc + " update=" + c.update +
               (c.filters.empty() ? "" : " arrayFilters=" + c.filters));
  std::optional<bson::Array> filters;
  if (!c.filters.empty()) {
    auto v = bson::ParseJsonValue(c.filters);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    filters = v.value().as_array();
  }
  UpdateContext ctx;
  ctx.now = bson::DateTime{1700000000000};
  if (c.pos >= 0) ctx.positional_index = static_cast<size_t>(c.pos);
  Document input = J(c.doc);
  Document before = input;

  auto parsed = Update::Parse(J(c.update), filters ? &*filters : nullptr);
  Result<UpdateOutcome> out = parsed.ok() ? parsed.value().Apply(input, ctx)
                                          : Result<UpdateOutcome>(parsed.status());
  EXPECT_EQ(S(input), S(before)) << "Apply must not change its input";
  if (c.code != 0) {
    ASSERT_FALSE(out.ok()) << "expected error " << c.code << ", got " << S(out.value().document);
    EXPECT_EQ(out.status().code_number(), c.code) << out.status().ToString();
    if (!c.msg.empty()) {
      EXPECT_NE(std::string(out.status().message()).find(c.msg), std::string::npos)
          << out.status().ToString();
    }
    return;
  }
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(S(out.value().document), S(J(c.expect)));
  EXPECT_TRUE(out.value().document == J(c.expect)) << "types differ: "
                                                   << bson::ToJson(out.value().document,
                                                                   JsonMode::kCanonical);
  EXPECT_EQ(out.value().modified, c.modified);
  if (!c.desc.empty()) {
    EXPECT_EQ(S(out.value().description.ToDocument()), S(J(c.desc)));
  }
}

class UpdateTable : public ::testing::TestWithParam<Case> {};
TEST_P(UpdateTable, Applies) { RunCase(GetParam()); }

// ---- $set / $unset ----
const Case kSetUnset[] = {
    {"{_id: 1, a: 1}", "{$set: {a: 2}}", "{_id: 1, a: 2}", 0,
     "{updatedFields: {a: 2}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: 1}", "{$set: {b: 2}}", "{_id: 1, a: 1, b: 2}", 0,
     "{updatedFields: {b: 2}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: 1}", "{$set: {a: 1}}", "{_id: 1, a: 1}", 0, "", false},
    {"{_id: 1, a: 1}", "{$set: {a: 1.0}}", "{_id: 1, a: 1.0}"},  // type changes: modified
    {"{_id: 1, a: 1}", "{$set: {a: NumberLong(1)}}", "{_id: 1, a: NumberLong(1)}"},
    {"{_id: 1, a: {b: 1}}", "{$set: {a: {b: 1}}}", "{_id: 1, a: {b: 1}}", 0, "", false},
    {"{_id: 1, a: {b: 1, c: 2}}", "{$set: {a: {c: 2, b: 1}}}", "{_id: 1, a: {c: 2, b: 1}}"},
    {"{_id: 1}", "{$set: {'a.b.c': 1}}", "{_id: 1, a: {b: {c: 1}}}", 0,
     "{updatedFields: {a: {b: {c: 1}}}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: {x: 1}}", "{$set: {'a.b.c': 1}}", "{_id: 1, a: {x: 1, b: {c: 1}}}", 0,
     "{updatedFields: {'a.b': {c: 1}}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: {b: 1}}", "{$set: {'a.b': 2}}", "{_id: 1, a: {b: 2}}", 0,
     "{updatedFields: {'a.b': 2}, removedFields: [], truncatedArrays: []}"},
    // New fields are created in path order, not in the order written.
    {"{_id: 1}", "{$set: {z: 1, b: 2, a: 3}}", "{_id: 1, a: 3, b: 2, z: 1}"},
    {"{_id: 1, z: 0, a: 0}", "{$set: {a: 1, z: 2}}", "{_id: 1, z: 2, a: 1}"},
    {"{_id: 1, a: {}}", "{$set: {'a.10': 1, 'a.9': 2}}", "{_id: 1, a: {'9': 2, '10': 1}}"},
    // Arrays: numeric components index; past the end pads with nulls.
    {"{_id: 1, a: [1, 2, 3]}", "{$set: {'a.1': 9}}", "{_id: 1, a: [1, 9, 3]}", 0,
     "{updatedFields: {'a.1': 9}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [1]}", "{$set: {'a.3': 9}}", "{_id: 1, a: [1, null, null, 9]}", 0,
     "{updatedFields: {'a.3': 9}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: []}", "{$set: {'a.0.b': 1}}", "{_id: 1, a: [{b: 1}]}"},
    {"{_id: 1, a: [{b: 1}, {b: 2}]}", "{$set: {'a.1.b': 5}}", "{_id: 1, a: [{b: 1}, {b: 5}]}", 0,
     "{updatedFields: {'a.1.b': 5}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [{b: 1}]}", "{$set: {'a.b': 5}}", "", 28, "", true, "", -1,
     "Cannot create field 'b' in element {a: "},
    {"{_id: 1, a: 1}", "{$set: {'a.b': 5}}", "", 28, "", true, "", -1,
     "Cannot create field 'b' in element {a: 1}"},
    {"{_id: 1, a: null}", "{$set: {'a.b': 5}}", "", 28},
    {"{_id: 1, a: [1]}", "{$set: {'a.2000000': 1}}", "", 102},
    {"{_id: 1, a: {'0': 1}}", "{$set: {'a.0': 2}}", "{_id: 1, a: {'0': 2}}"},
    // Empty operator documents are accepted (no-op), as mongod 5.0+.
    {"{_id: 1, a: 1}", "{$set: {}}", "{_id: 1, a: 1}", 0, "", false},
    {"{_id: 1}", "{$set: {a: {$x: 1}}}", "{_id: 1, a: {$x: 1}}"},
    {"{_id: 1}", "{$set: {$x: 1}}", "", 52},
    {"{_id: 1}", "{$set: {'': 1}}", "", 56, "", true, "", -1, "An empty update path is not valid."},
    {"{_id: 1}", "{$set: {'a..b': 1}}", "", 56, "", true, "", -1,
     "The update path 'a..b' contains an empty field name, which is not allowed."},
    {"{_id: 1}", "{$set: {'a.': 1}}", "", 56},
    {"{_id: 1, a: 1, b: 2}", "{$unset: {a: ''}}", "{_id: 1, b: 2}", 0,
     "{updatedFields: {}, removedFields: ['a'], truncatedArrays: []}"},
    {"{_id: 1, a: 1}", "{$unset: {b: 1}}", "{_id: 1, a: 1}", 0, "", false},
    {"{_id: 1, a: 1}", "{$unset: {'a.b': 1}}", "{_id: 1, a: 1}", 0, "", false},
    {"{_id: 1, a: {b: 1, c: 2}}", "{$unset: {'a.b': 1}}", "{_id: 1, a: {c: 2}}", 0,
     "{updatedFields: {}, removedFields: ['a.b'], truncatedArrays: []}"},
    {"{_id: 1, a: [1, 2, 3]}", "{$unset: {'a.1': 1}}", "{_id: 1, a: [1, null, 3]}", 0,
     "{updatedFields: {'a.1': null}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [1, 2, 3]}", "{$unset: {'a.5': 1}}", "{_id: 1, a: [1, 2, 3]}", 0, "", false},
    {"{_id: 1, a: 1, b: 1}", "{$set: {a: 2}, $unset: {b: 1}}", "{_id: 1, a: 2}", 0,
     "{updatedFields: {a: 2}, removedFields: ['b'], truncatedArrays: []}"},
    {"{_id: 1, a: {b: 1}, c: 1}", "{$set: {'a.b': 2, d: 1}, $unset: {c: 1}}",
     "{_id: 1, a: {b: 2}, d: 1}", 0,
     "{updatedFields: {d: 1, 'a.b': 2}, removedFields: ['c'], truncatedArrays: []}"},
};
INSTANTIATE_TEST_SUITE_P(SetUnset, UpdateTable, ::testing::ValuesIn(kSetUnset));

// ---- Parse errors, conflicts, _id ----
const Case kErrors[] = {
    {"{_id: 1}", "{$foo: {a: 1}}", "", 9, "", true, "", -1,
     "Unknown modifier: $foo. Expected a valid update modifier"},
    {"{_id: 1}", "{$set: {a: 1}, b: 2}", "", 9, "", true, "", -1, "Unknown modifier: b"},
    {"{_id: 1}", "{$set: 5}", "", 9, "", true, "", -1,
     "Modifiers operate on fields but we found type int instead"},
    {"{_id: 1}", "{$set: {a: 1}, $inc: {a: 1}}", "", 40, "", true, "", -1,
     "Updating the path 'a' would create a conflict at 'a'"},
    {"{_id: 1}", "{$set: {a: 1, 'a.b': 1}}", "", 40, "", true, "", -1,
     "Updating the path 'a.b' would create a conflict at 'a'"},
    {"{_id: 1}", "{$set: {'a.b': 1}, $unset: {a: 1}}", "", 40, "", true, "", -1,
     "Updating the path 'a' would create a conflict at 'a'"},
    {"{_id: 1}", "{$set: {'a.b': 1, 'a.c': 1}}", "{_id: 1, a: {b: 1, c: 1}}"},
    {"{_id: 1}", "{$rename: {a: 'b'}, $set: {b: 1}}", "", 40},
    {"{_id: 1}", "{$rename: {a: 'b'}, $set: {a: 1}}", "", 40},
    {"{_id: 1}", "{$set: {'a.$': 1, 'a.0': 2}}", "", 40, "", true, "", 0,
     "Update created a conflict at 'a.0'"},
    {"{_id: 1, a: [1, 2]}", "{$set: {'a.$': 5, 'a.1': 2}}", "{_id: 1, a: [5, 2]}", 0, "", true,
     "", 0},
    {"{_id: 1, a: 1}", "{$set: {_id: 2}}", "", 66, "", true, "", -1,
     "Performing an update on the path '_id' would modify the immutable field '_id'"},
    {"{_id: 1, a: 1}", "{$set: {_id: 1}}", "{_id: 1, a: 1}", 0, "", false},
    {"{_id: 1, a: 1}", "{$unset: {_id: 1}}", "", 66},
    {"{_id: 1, a: 1}", "{$inc: {_id: 1}}", "", 66},
    {"{_id: {x: 1}}", "{$set: {'_id.x': 2}}", "", 66,  "", true, "", -1,
     "Performing an update on the path '_id.x' would modify the immutable field '_id'"},
    {"{_id: {x: 1}}", "{$set: {'_id.y': 2}}", "", 66},
    {"{_id: 1, a: 1}", "{$rename: {_id: 'b'}}", "", 66},
    {"{_id: 1, a: [1]}", "{$set: {'a.$': 1}}", "", 2, "", true, "", -1,
     "The positional operator did not find the match needed from the query."},
    {"{_id: 1}", "{$set: {'$.a': 1}}", "", 2, "", true, "", -1,
     "Cannot have positional (i.e. '$') element in the first position in path '$.a'"},
    {"{_id: 1}", "{$set: {'a.$.b.$': 1}}", "", 2, "", true, "", -1,
     "Too many positional (i.e. '$') elements found in path 'a.$.b.$'"},
};
INSTANTIATE_TEST_SUITE_P(Errors, UpdateTable, ::testing::ValuesIn(kErrors));

// ---- $inc / $mul / $min / $max / $bit / $currentDate ----
const Case kArithmetic[] = {
    {"{_id: 1, a: 1}", "{$inc: {a: 2}}", "{_id: 1, a: 3}", 0,
     "{updatedFields: {a: 3}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1}", "{$inc: {a: 2}}", "{_id: 1, a: 2}"},
    {"{_id: 1}", "{$inc: {'a.b': NumberLong(2)}}", "{_id: 1, a: {b: NumberLong(2)}}"},
    {"{_id: 1, a: 1}", "{$inc: {a: 0}}", "{_id: 1, a: 1}", 0, "", false},
    {"{_id: 1, a: 1}", "{$inc: {a: 0.0}}", "{_id: 1, a: 1.0}"},  // becomes a double
    {"{_id: 1, a: 1}", "{$inc: {a: NumberLong(1)}}", "{_id: 1, a: NumberLong(2)}"},
    {"{_id: 1, a: 1.5}", "{$inc: {a: 1}}", "{_id: 1, a: 2.5}"},
    {"{_id: 1, a: 2147483647}", "{$inc: {a: 1}}", "{_id: 1, a: NumberLong(2147483648)}"},
    {"{_id: 1, a: -2147483648}", "{$inc: {a: -1}}", "{_id: 1, a: NumberLong(-2147483649)}"},
    {"{_id: 1, a: NumberLong('9223372036854775807')}", "{$inc: {a: 1}}", "", 2, "", true, "", -1,
     "Failed to apply $inc operations to current value"},
    {"{_id: 1, a: NumberDecimal('1.5')}", "{$inc: {a: 1}}", "{_id: 1, a: NumberDecimal('2.5')}"},
    {"{_id: 1, a: 1}", "{$inc: {a: NumberDecimal('0.1')}}", "{_id: 1, a: NumberDecimal('1.1')}"},
    {"{_id: 1, a: 'x'}", "{$inc: {a: 1}}", "", 14, "", true, "", -1,
     "Cannot apply $inc to a value of non-numeric type. {_id: 1} has the field 'a' of non-numeric "
     "type string"},
    {"{_id: 1, a: null}", "{$inc: {a: 1}}", "", 14},
    {"{_id: 1, a: 1}", "{$inc: {a: 'x'}}", "", 14, "", true, "", -1,
     "Cannot increment with non-numeric argument: {a: \"x\"}"},
    {"{_id: 1, a: [1]}", "{$inc: {'a.0': 1}}", "{_id: 1, a: [2]}", 0,
     "{updatedFields: {'a.0': 2}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: 3}", "{$mul: {a: 2}}", "{_id: 1, a: 6}"},
    {"{_id: 1, a: 3}", "{$mul: {a: 1}}", "{_id: 1, a: 3}", 0, "", false},
    {"{_id: 1, a: 3}", "{$mul: {a: 1.0}}", "{_id: 1, a: 3.0}"},
    {"{_id: 1}", "{$mul: {a: 5}}", "{_id: 1, a: 0}"},
    {"{_id: 1}", "{$mul: {a: NumberLong(5)}}", "{_id: 1, a: NumberLong(0)}"},
    {"{_id: 1}", "{$mul: {a: 2.5}}", "{_id: 1, a: 0.0}"},
    {"{_id: 1, a: 65536}", "{$mul: {a: 65536}}", "{_id: 1, a: NumberLong(4294967296)}"},
    {"{_id: 1, a: NumberLong('4611686018427387904')}", "{$mul: {a: 4}}", "", 2},
    {"{_id: 1, a: 'x'}", "{$mul: {a: 2}}", "", 14, "", true, "", -1, "Cannot apply $mul"},
    {"{_id: 1, a: 1}", "{$mul: {a: 'x'}}", "", 14, "", true, "", -1,
     "Cannot multiply with non-numeric argument"},
    {"{_id: 1, a: 5}", "{$min: {a: 3}}", "{_id: 1, a: 3}"},
    {"{_id: 1, a: 5}", "{$min: {a: 7}}", "{_id: 1, a: 5}", 0, "", false},
    {"{_id: 1, a: 5}", "{$min: {a: 5.0}}", "{_id: 1, a: 5}", 0, "", false},
    {"{_id: 1}", "{$min: {a: 5}}", "{_id: 1, a: 5}"},
    {"{_id: 1, a: 5}", "{$min: {a: null}}", "{_id: 1, a: null}"},  // null sorts before numbers
    {"{_id: 1, a: 5}", "{$max: {a: 'x'}}", "{_id: 1, a: 'x'}"},  // strings after numbers
    {"{_id: 1, a: 5}", "{$max: {a: 7}}", "{_id: 1, a: 7}"},
    {"{_id: 1, a: 5}", "{$max: {a: 3}}", "{_id: 1, a: 5}", 0, "", false},
    {"{_id: 1, a: 5}", "{$bit: {a: {and: 3}}}", "{_id: 1, a: 1}"},
    {"{_id: 1, a: 5}", "{$bit: {a: {or: 2}}}", "{_id: 1, a: 7}"},
    {"{_id: 1, a: 5}", "{$bit: {a: {xor: 1}}}", "{_id: 1, a: 4}"},
    {"{_id: 1, a: 5}", "{$bit: {a: {or: 1}}}", "{_id: 1, a: 5}", 0, "", false},
    {"{_id: 1, a: 5}", "{$bit: {a: {or: NumberLong(8)}}}", "{_id: 1, a: NumberLong(13)}"},
    {"{_id: 1}", "{$bit: {a: {or: 6}}}", "{_id: 1, a: 6}"},
    {"{_id: 1, a: 5.0}", "{$bit: {a: {or: 1}}}", "", 2},
    {"{_id: 1, a: 5}", "{$bit: {a: {or: 1.0}}}", "", 2},
    {"{_id: 1, a: 5}", "{$bit: {a: {not: 1}}}", "", 2},
    {"{_id: 1, a: 5}", "{$bit: {a: {}}}", "", 2},
    {"{_id: 1, a: 5}", "{$bit: {a: 1}}", "", 2},
    {"{_id: 1}", "{$currentDate: {a: true}}", "{_id: 1, a: new Date(1700000000000)}"},
    {"{_id: 1}", "{$currentDate: {a: {$type: 'date'}}}", "{_id: 1, a: new Date(1700000000000)}"},
    {"{_id: 1}", "{$currentDate: {a: {$type: 'timestamp'}}}", "{_id: 1, a: Timestamp(1700000000, 1)}"},
    {"{_id: 1}", "{$currentDate: {a: {$type: 'x'}}}", "", 2},
    {"{_id: 1}", "{$currentDate: {a: 1}}", "", 2},
    {"{_id: 1}", "{$currentDate: {a: {$foo: 'date'}}}", "", 2},
};
INSTANTIATE_TEST_SUITE_P(Arithmetic, UpdateTable, ::testing::ValuesIn(kArithmetic));

// ---- $rename / $setOnInsert ----
const Case kRename[] = {
    {"{_id: 1, a: 1, b: 2}", "{$rename: {a: 'c'}}", "{_id: 1, b: 2, c: 1}", 0,
     "{updatedFields: {c: 1}, removedFields: ['a'], truncatedArrays: []}"},
    {"{_id: 1, a: 1, b: 2}", "{$rename: {a: 'b'}}", "{_id: 1, b: 1}", 0,
     "{updatedFields: {b: 1}, removedFields: ['a'], truncatedArrays: []}"},
    {"{_id: 1, b: 2}", "{$rename: {a: 'c'}}", "{_id: 1, b: 2}", 0, "", false},
    {"{_id: 1, a: {b: 1}}", "{$rename: {'a.b': 'c'}}", "{_id: 1, a: {}, c: 1}"},
    {"{_id: 1, a: 1}", "{$rename: {a: 'x.y'}}", "{_id: 1, x: {y: 1}}"},
    {"{_id: 1, a: 1}", "{$rename: {a: 'a'}}", "", 2, "", true, "", -1,
     "The source and target field for $rename must differ"},
    {"{_id: 1, a: 1}", "{$rename: {a: 'a.b'}}", "", 2, "", true, "", -1,
     "must not be on the same path"},
    {"{_id: 1, a: 1}", "{$rename: {a: 5}}", "", 2, "", true, "", -1,
     "The 'to' field for $rename must be a string"},
    {"{_id: 1, a: [{b: 1}]}", "{$rename: {'a.0.b': 'c'}}", "", 2, "", true, "", -1,
     "The source field cannot be an array element"},
    {"{_id: 1, a: 1, b: []}", "{$rename: {a: 'b.0'}}", "", 2, "", true, "", -1,
     "The destination field cannot be an array element"},
    {"{_id: 1, a: 1}", "{$rename: {'a.$': 'b'}}", "", 2},
    {"{_id: 1, a: 1}", "{$setOnInsert: {b: 1}}", "{_id: 1, a: 1}", 0, "", false},
    {"{_id: 1, a: 1}", "{$setOnInsert: {b: 1}, $set: {c: 1}}", "{_id: 1, a: 1, c: 1}"},
};
INSTANTIATE_TEST_SUITE_P(Rename, UpdateTable, ::testing::ValuesIn(kRename));

// ---- Arrays: $push / $addToSet / $pop / $pull / $pullAll ----
const Case kArrays[] = {
    {"{_id: 1, a: [1]}", "{$push: {a: 2}}", "{_id: 1, a: [1, 2]}", 0,
     "{updatedFields: {'a.1': 2}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1}", "{$push: {a: 2}}", "{_id: 1, a: [2]}", 0,
     "{updatedFields: {a: [2]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: []}", "{$push: {a: 2}}", "{_id: 1, a: [2]}", 0,
     "{updatedFields: {a: [2]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [1]}", "{$push: {a: [2, 3]}}", "{_id: 1, a: [1, [2, 3]]}"},
    {"{_id: 1, a: [1]}", "{$push: {a: {$each: [2, 3]}}}", "{_id: 1, a: [1, 2, 3]}", 0,
     "{updatedFields: {'a.1': 2, 'a.2': 3}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [1]}", "{$push: {a: {$each: []}}}", "{_id: 1, a: [1]}", 0, "", false},
    {"{_id: 1}", "{$push: {a: {$each: []}}}", "{_id: 1, a: []}"},
    {"{_id: 1, a: [1, 2]}", "{$push: {a: {$each: [9], $position: 0}}}", "{_id: 1, a: [9, 1, 2]}", 0,
     "{updatedFields: {a: [9, 1, 2]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [1, 2]}", "{$push: {a: {$each: [9], $position: 1}}}", "{_id: 1, a: [1, 9, 2]}"},
    {"{_id: 1, a: [1, 2]}", "{$push: {a: {$each: [9], $position: -1}}}", "{_id: 1, a: [1, 9, 2]}"},
    {"{_id: 1, a: [1, 2]}", "{$push: {a: {$each: [9], $position: -5}}}", "{_id: 1, a: [9, 1, 2]}"},
    {"{_id: 1, a: [1, 2]}", "{$push: {a: {$each: [9], $position: 10}}}", "{_id: 1, a: [1, 2, 9]}"},
    {"{_id: 1, a: [3, 1]}", "{$push: {a: {$each: [2], $sort: 1}}}", "{_id: 1, a: [1, 2, 3]}", 0,
     "{updatedFields: {a: [1, 2, 3]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [3, 1]}", "{$push: {a: {$each: [2], $sort: -1}}}", "{_id: 1, a: [3, 2, 1]}"},
    {"{_id: 1, a: [1, 2, 3]}", "{$push: {a: {$each: [4], $slice: 2}}}", "{_id: 1, a: [1, 2]}"},
    {"{_id: 1, a: [1, 2, 3]}", "{$push: {a: {$each: [4], $slice: -2}}}", "{_id: 1, a: [3, 4]}"},
    {"{_id: 1, a: [1, 2, 3]}", "{$push: {a: {$each: [], $slice: 0}}}", "{_id: 1, a: []}"},
    {"{_id: 1, a: [{x: 2}, {x: 1}]}", "{$push: {a: {$each: [{x: 3}], $sort: {x: -1}}}}",
     "{_id: 1, a: [{x: 3}, {x: 2}, {x: 1}]}"},
    {"{_id: 1, a: [{x: {y: 2}}, {x: {y: 1}}, 5]}", "{$push: {a: {$each: [], $sort: {'x.y': 1}}}}",
     "{_id: 1, a: [5, {x: {y: 1}}, {x: {y: 2}}]}"},
    {"{_id: 1, a: [5, 1, 'x', null]}",
     "{$push: {a: {$each: [3], $sort: 1, $slice: 3}}}", "{_id: 1, a: [null, 1, 3]}"},
    {"{_id: 1, a: 1}", "{$push: {a: 2}}", "", 2, "", true, "", -1,
     "The field 'a' must be an array but is of type int in document {_id: 1}"},
    {"{_id: 1, a: []}", "{$push: {a: {$each: 1}}}", "", 2},
    {"{_id: 1, a: []}", "{$push: {a: {$each: [1], $slice: 'x'}}}", "", 2, "", true, "", -1,
     "The value for $slice must be an integer value"},
    {"{_id: 1, a: []}", "{$push: {a: {$each: [1], $slice: 1.5}}}", "", 2},
    {"{_id: 1, a: []}", "{$push: {a: {$each: [1], $position: 'x'}}}", "", 2, "", true, "", -1,
     "The value for $position must be an integer value"},
    {"{_id: 1, a: []}", "{$push: {a: {$each: [1], $sort: 2}}}", "", 2},
    {"{_id: 1, a: []}", "{$push: {a: {$each: [1], $sort: {}}}}", "", 2},
    {"{_id: 1, a: []}", "{$push: {a: {$each: [1], $bogus: 1}}}", "", 2, "", true, "", -1,
     "Unrecognized clause in $push: $bogus"},
    {"{_id: 1, a: []}", "{$push: {a: {$slice: 1}}}", "{_id: 1, a: [{$slice: 1}]}"},
    {"{_id: 1, a: [1, 2]}", "{$addToSet: {a: 2}}", "{_id: 1, a: [1, 2]}", 0, "", false},
    {"{_id: 1, a: [1, 2]}", "{$addToSet: {a: 2.0}}", "{_id: 1, a: [1, 2]}", 0, "", false},
    {"{_id: 1, a: [1, 2]}", "{$addToSet: {a: 3}}", "{_id: 1, a: [1, 2, 3]}", 0,
     "{updatedFields: {a: [1, 2, 3]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [1]}", "{$addToSet: {a: {$each: [1, 2, 2, 3]}}}", "{_id: 1, a: [1, 2, 3]}"},
    {"{_id: 1}", "{$addToSet: {a: {$each: [1, 1]}}}", "{_id: 1, a: [1]}"},
    {"{_id: 1, a: [{x: 1}]}", "{$addToSet: {a: {x: 1}}}", "{_id: 1, a: [{x: 1}]}", 0, "", false},
    {"{_id: 1, a: 1}", "{$addToSet: {a: 1}}", "", 2},
    {"{_id: 1, a: []}", "{$addToSet: {a: {$each: 1}}}", "", 14},
    {"{_id: 1, a: [1, 2, 3]}", "{$pop: {a: 1}}", "{_id: 1, a: [1, 2]}", 0,
     "{updatedFields: {a: [1, 2]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [1, 2, 3]}", "{$pop: {a: -1}}", "{_id: 1, a: [2, 3]}"},
    {"{_id: 1, a: []}", "{$pop: {a: 1}}", "{_id: 1, a: []}", 0, "", false},
    {"{_id: 1}", "{$pop: {a: 1}}", "{_id: 1}", 0, "", false},
    {"{_id: 1, a: [1]}", "{$pop: {a: 2}}", "", 9, "", true, "", -1, "$pop expects 1 or -1"},
    {"{_id: 1, a: [1]}", "{$pop: {a: 'x'}}", "", 9},
    {"{_id: 1, a: 1}", "{$pop: {a: 1}}", "", 14},
    {"{_id: 1, a: 1}", "{$pop: {'a.b': 1}}", "", 28},
    {"{_id: 1, a: [1, 2, 1, 3]}", "{$pull: {a: 1}}", "{_id: 1, a: [2, 3]}", 0,
     "{updatedFields: {a: [2, 3]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [1, 2.0, NumberLong(2)]}", "{$pull: {a: 2}}", "{_id: 1, a: [1]}"},
    {"{_id: 1, a: [1, 2]}", "{$pull: {a: 5}}", "{_id: 1, a: [1, 2]}", 0, "", false},
    {"{_id: 1, a: [1, 5, 8]}", "{$pull: {a: {$gte: 5}}}", "{_id: 1, a: [1]}"},
    {"{_id: 1, a: [1, 5, 8]}", "{$pull: {a: {$in: [1, 8]}}}", "{_id: 1, a: [5]}"},
    {"{_id: 1, a: ['apple', 'banana']}", "{$pull: {a: /^a/}}", "{_id: 1, a: ['banana']}"},
    {"{_id: 1, a: [{x: 1, y: 1}, {x: 2}]}", "{$pull: {a: {x: 1}}}", "{_id: 1, a: [{x: 2}]}"},
    {"{_id: 1, a: [{x: 1}, {x: 7}, 3]}", "{$pull: {a: {x: {$gt: 5}}}}", "{_id: 1, a: [{x: 1}, 3]}"},
    {"{_id: 1, a: [{x: 1}, 2]}", "{$pull: {a: {}}}", "{_id: 1, a: [2]}"},
    {"{_id: 1, a: [[1, 2], [3]]}", "{$pull: {a: [1, 2]}}", "{_id: 1, a: [[3]]}"},
    {"{_id: 1, a: [{b: [{c: 1}, {c: 2}]}]}", "{$pull: {'a.0.b': {c: 1}}}",
     "{_id: 1, a: [{b: [{c: 2}]}]}", 0,
     "{updatedFields: {'a.0.b': [{c: 2}]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: 1}", "{$pull: {a: 1}}", "", 2, "", true, "", -1,
     "Cannot apply $pull to a non-array value"},
    {"{_id: 1}", "{$pull: {a: 1}}", "{_id: 1}", 0, "", false},
    {"{_id: 1, a: [1, 2, 3, 1]}", "{$pullAll: {a: [1, 3]}}", "{_id: 1, a: [2]}"},
    {"{_id: 1, a: [1]}", "{$pullAll: {a: 1}}", "", 2, "", true, "", -1,
     "$pullAll requires an array argument"},
};
INSTANTIATE_TEST_SUITE_P(Arrays, UpdateTable, ::testing::ValuesIn(kArrays));

// ---- Positional $, $[], $[<id>] ----
const Case kPositional[] = {
    {"{_id: 1, a: [1, 2, 3]}", "{$set: {'a.$': 9}}", "{_id: 1, a: [1, 9, 3]}", 0,
     "{updatedFields: {'a.1': 9}, removedFields: [], truncatedArrays: []}", true, "", 1},
    {"{_id: 1, a: [{b: 1}, {b: 2}]}", "{$inc: {'a.$.b': 5}}", "{_id: 1, a: [{b: 1}, {b: 7}]}", 0,
     "{updatedFields: {'a.1.b': 7}, removedFields: [], truncatedArrays: []}", true, "", 1},
    {"{_id: 1, a: [{b: 1}]}", "{$set: {'a.$.c': 5}}", "{_id: 1, a: [{b: 1, c: 5}]}", 0, "", true,
     "", 0},
    {"{_id: 1, a: [1, 2, 3]}", "{$set: {'a.$[]': 0}}", "{_id: 1, a: [0, 0, 0]}", 0,
     "{updatedFields: {a: [0, 0, 0]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [0, 2, 0]}", "{$set: {'a.$[]': 0}}", "{_id: 1, a: [0, 0, 0]}", 0,
     "{updatedFields: {'a.1': 0}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [5]}", "{$set: {'a.$[]': 0}}", "{_id: 1, a: [0]}", 0,
     "{updatedFields: {'a.0': 0}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: []}", "{$set: {'a.$[]': 0}}", "{_id: 1, a: []}", 0, "", false},
    {"{_id: 1, a: [{b: 1}, {b: 2}]}", "{$inc: {'a.$[].b': 1}}", "{_id: 1, a: [{b: 2}, {b: 3}]}"},
    {"{_id: 1, a: [[1, 2], [3]]}", "{$inc: {'a.$[].$[]': 10}}", "{_id: 1, a: [[11, 12], [13]]}"},
    {"{_id: 1}", "{$set: {'a.$[]': 0}}", "", 2, "", true, "", -1,
     "The path 'a' must exist in the document in order to apply array updates."},
    {"{_id: 1, a: 5}", "{$set: {'a.$[]': 0}}", "", 2, "", true, "", -1,
     "Cannot apply array updates to non-array element a: 5"},
    {"{_id: 1, a: [1, 5, 8]}", "{$set: {'a.$[x]': 0}}", "{_id: 1, a: [1, 0, 0]}", 0,
     "{updatedFields: {a: [1, 0, 0]}, removedFields: [], truncatedArrays: []}", true,
     "[{x: {$gte: 5}}]"},
    {"{_id: 1, a: [{q: 1}, {q: 9}]}", "{$set: {'a.$[e].ok': true}}",
     "{_id: 1, a: [{q: 1}, {q: 9, ok: true}]}", 0,
     "{updatedFields: {'a.1.ok': true}, removedFields: [], truncatedArrays: []}", true,
     "[{'e.q': {$gt: 5}}]"},
    {"{_id: 1, a: [1, 5, 8]}", "{$set: {'a.$[x]': 0, 'a.$[y]': 1}}", "{_id: 1, a: [1, 1, 0]}", 0,
     "", true, "[{x: {$gte: 8}}, {y: 5}]"},
    {"{_id: 1, a: [5]}", "{$set: {'a.$[x]': 0, 'a.$[y]': 1}}", "", 40, "", true,
     "[{x: 5}, {y: 5}]"},
    {"{_id: 1, a: [1]}", "{$set: {'a.$[x]': 0}}", "", 2, "", true, "", -1,
     "No array filter found for identifier 'x' in path 'a.$[x]'"},
    {"{_id: 1, a: [1]}", "{$set: {a: 0}}", "", 9, "", true, "[{x: 1}]", -1,
     "The array filter for identifier 'x' was not used in the update"},
    {"{_id: 1, a: [1]}", "{$set: {'a.$[x]': 0}}", "", 9, "", true, "[{x: 1}, {x: 2}]", -1,
     "Found multiple array filters with the same top-level field name x"},
    {"{_id: 1, a: [1]}", "{$set: {'a.$[x]': 0}}", "", 9, "", true, "[{x: 1, y: 2}]"},
    {"{_id: 1, a: [1]}", "{$set: {'a.$[X]': 0}}", "", 2, "", true, "[{X: 1}]"},
    {"{_id: 1, a: [1]}", "{$set: {'$[]': 0}}", "", 2},
    {"{_id: 1, a: [1, 2]}", "{$set: {'a.$[x]': 0}}", "{_id: 1, a: [0, 0]}", 0, "", true,
     "[{$or: [{x: 1}, {x: 2}]}]"},
};
INSTANTIATE_TEST_SUITE_P(Positional, UpdateTable, ::testing::ValuesIn(kPositional));

// ---- Replacement documents ----
const Case kReplacement[] = {
    {"{_id: 1, a: 1}", "{b: 2}", "{_id: 1, b: 2}"},
    {"{_id: 1, a: 1}", "{}", "{_id: 1}"},
    {"{_id: 1, a: 1}", "{_id: 1, a: 1}", "{_id: 1, a: 1}", 0, "", false},
    {"{_id: 1, a: 1}", "{b: 2, _id: 1}", "{b: 2, _id: 1}"},
    {"{_id: 1, a: 1}", "{_id: 2, a: 1}", "", 66, "", true, "", -1,
     "After applying the update, the (immutable) field '_id' was found to have been altered to "
     "_id: 2"},
    {"{_id: 1, a: 1}", "{a: 1, $set: {b: 1}}", "", 52},
    {"{_id: 1, a: 1}", "{a: {$b: 1}}", "{_id: 1, a: {$b: 1}}"},
};
INSTANTIATE_TEST_SUITE_P(Replacement, UpdateTable, ::testing::ValuesIn(kReplacement));


// ---- Change-stream descriptions of multi-operator updates, decimals, misc ----
const Case kMisc[] = {
    // updatedFields lists in-place updates, then new fields, then nested changes (mongod's
    // delta order); removedFields lists deletes.
    {"{_id: 1, a: {b: 1}, c: 1, e: 1}", "{$set: {c: 2, d: 1, 'a.b': 2}, $unset: {e: 1}}",
     "{_id: 1, a: {b: 2}, c: 2, d: 1}", 0,
     "{updatedFields: {c: 2, d: 1, 'a.b': 2}, removedFields: ['e'], truncatedArrays: []}"},
    {"{_id: 1, a: {b: {c: 1, d: 1}}}", "{$rename: {'a.b.c': 'a.b.x'}}",
     "{_id: 1, a: {b: {d: 1, x: 1}}}", 0,
     "{updatedFields: {'a.b.x': 1}, removedFields: ['a.b.c'], truncatedArrays: []}"},
    {"{_id: 1, a: [{b: [1]}, {b: [2]}]}", "{$push: {'a.1.b': 3}}",
     "{_id: 1, a: [{b: [1]}, {b: [2, 3]}]}", 0,
     "{updatedFields: {'a.1.b.1': 3}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: [{b: 1}, {b: 2}]}", "{$set: {'a.$[].b': 0}}", "{_id: 1, a: [{b: 0}, {b: 0}]}",
     0, "{updatedFields: {a: [{b: 0}, {b: 0}]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, x: {a: [1, 2]}}", "{$set: {'x.a.$[]': 7}}", "{_id: 1, x: {a: [7, 7]}}", 0,
     "{updatedFields: {'x.a': [7, 7]}, removedFields: [], truncatedArrays: []}"},
    {"{_id: 1, a: NumberDecimal('2.5')}", "{$mul: {a: NumberDecimal('4')}}",
     "{_id: 1, a: NumberDecimal('10.0')}"},
    {"{_id: 1, a: NumberDecimal('1')}", "{$inc: {a: NumberDecimal('0')}}",
     "{_id: 1, a: NumberDecimal('1')}", 0, "", false},
    {"{_id: 1, a: 0.1}", "{$inc: {a: NumberDecimal('0.2')}}", "{_id: 1, a: NumberDecimal('0.300000000000000')}"},
    {"{_id: 1, a: NumberDecimal('9999999999999999999999999999999999')}",
     "{$inc: {a: NumberDecimal('1')}}",
     "{_id: 1, a: NumberDecimal('1.000000000000000000000000000000000E+34')}"},
    {"{_id: 1, a: NumberLong(5)}", "{$inc: {a: 1.5}}", "{_id: 1, a: 6.5}"},
    {"{_id: 1, a: 5}", "{$inc: {a: NumberLong(-5)}}", "{_id: 1, a: NumberLong(0)}"},
    {"{_id: 1, a: [1, 2]}", "{$set: {'a.$': 5}, $push: {b: 1}}", "{_id: 1, a: [1, 5], b: [1]}", 0,
     "{updatedFields: {b: [1], 'a.1': 5}, removedFields: [], truncatedArrays: []}", true, "", 1},
    {"{_id: 1, a: {c: 1}}", "{$set: {'a.b': 1, 'a.a': 2}, $inc: {'a.c': 1}}",
     "{_id: 1, a: {c: 2, a: 2, b: 1}}"},
    {"{_id: 1, a: {'2': 'x', '10': 'y'}}", "{$unset: {'a.10': 1}, $set: {'a.2': 'z'}}",
     "{_id: 1, a: {'2': 'z'}}"},
    {"{_id: 1, a: [1, 2, 3]}", "{$set: {'a.10': 1, 'a.2': 0}}",
     "{_id: 1, a: [1, 2, 0, null, null, null, null, null, null, null, 1]}"},
    {"{_id: 1, a: 1}", "{$rename: {a: 'b'}, $set: {c: 1}}", "{_id: 1, b: 1, c: 1}"},
    {"{_id: 1, a: [5, 6]}", "{$pull: {a: {$not: {$gt: 5}}}}", "{_id: 1, a: [6]}"},
    {"{_id: 1, a: [1, [1, 2]]}", "{$pull: {a: {$elemMatch: {$eq: 2}}}}", "{_id: 1, a: [1]}"},
    {"{_id: 1, a: [{x: 1}, {x: 2}]}", "{$pull: {a: {$or: [{x: 1}, {x: 2}]}}}", "{_id: 1, a: []}"},
};
INSTANTIATE_TEST_SUITE_P(Misc, UpdateTable, ::testing::ValuesIn(kMisc));

// ---- Upserts ----
struct UpsertCase {
  std::string query;
  std::string update;
  std::string expect;
  int code = 0;
};

void PrintTo(const UpsertCase& c, std::ostream* os) { *os << c.query << " " << c.update; }

class UpsertTable : public ::testing::TestWithParam<UpsertCase> {};
TEST_P(UpsertTable, Builds) {
  const UpsertCase& c = GetParam();
  SCOPED_TRACE("query=" + c.query + " update=" + c.update);
  auto u = Update::Parse(J(c.update), nullptr);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  UpdateContext ctx;
  ctx.now = bson::DateTime{1700000000000};
  auto doc = u.value().BuildUpsertDocument(J(c.query), ctx);
  if (c.code != 0) {
    ASSERT_FALSE(doc.ok()) << S(doc.value());
    EXPECT_EQ(doc.status().code_number(), c.code) << doc.status().ToString();
    return;
  }
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(S(doc.value()), S(J(c.expect)));
}

const UpsertCase kUpserts[] = {
    {"{a: 1}", "{$set: {b: 2}}", "{a: 1, b: 2}"},
    {"{a: 1, _id: 5}", "{$set: {b: 2}}", "{_id: 5, a: 1, b: 2}"},
    {"{a: {$eq: 1}, c: {$gt: 5}}", "{$inc: {n: 1}}", "{a: 1, n: 1}"},
    {"{$and: [{a: 1}, {'b.c': 2}]}", "{$set: {d: 1}}", "{a: 1, b: {c: 2}, d: 1}"},
    {"{$or: [{a: 1}, {b: 2}]}", "{$set: {d: 1}}", "{d: 1}"},
    {"{a: /x/}", "{$set: {d: 1}}", "{d: 1}"},
    {"{a: 1}", "{$setOnInsert: {s: 1}, $set: {t: 1}}", "{a: 1, s: 1, t: 1}"},
    {"{}", "{$set: {_id: 7, x: 1}}", "{_id: 7, x: 1}"},
    {"{_id: 1}", "{$set: {_id: 2}}", "", 66},
    {"{a: 1, 'a.b': 2}", "{$set: {d: 1}}", "", 54},
    {"{a: 1, $and: [{a: 2}]}", "{$set: {d: 1}}", "", 54},
    {"{a: 1}", "{$set: {'x.$': 1}}", "", 2},
    {"{_id: 3, a: 1}", "{b: 2}", "{_id: 3, b: 2}"},
    {"{a: 1}", "{b: 2}", "{b: 2}"},
    {"{_id: 3}", "{_id: 4, b: 2}", "", 66},
    {"{a: 1}", "{$set: {_id: [1]}}", "", 53},
};
INSTANTIATE_TEST_SUITE_P(Upserts, UpsertTable, ::testing::ValuesIn(kUpserts));

TEST(UpdateTest, IsReplacement) {
  auto op = Update::Parse(J("{$set: {a: 1}}"), nullptr);
  ASSERT_TRUE(op.ok());
  EXPECT_FALSE(op.value().is_replacement());
  auto rep = Update::Parse(J("{a: 1}"), nullptr);
  ASSERT_TRUE(rep.ok());
  EXPECT_TRUE(rep.value().is_replacement());
}

TEST(UpdateTest, SetOnInsertAppliesOnUpsertInsert) {
  auto u = Update::Parse(J("{$setOnInsert: {a: 1}}"), nullptr);
  ASSERT_TRUE(u.ok());
  UpdateContext ctx;
  ctx.is_upsert_insert = true;
  auto out = u.value().Apply(J("{_id: 1}"), ctx);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(S(out.value().document), "{_id: 1, a: 1}");
  EXPECT_TRUE(out.value().modified);
}

TEST(UpdateTest, DescriptionToDocumentShape) {
  UpdateDescription d;
  d.updated_fields.Append("a.b", 1);
  d.removed_fields.push_back("c");
  d.truncated_arrays.emplace_back("arr", 2);
  EXPECT_EQ(S(d.ToDocument()),
            S(J("{updatedFields: {'a.b': 1}, removedFields: ['c'], "
                "truncatedArrays: [{field: 'arr', newSize: 2}]}")));
}

}  // namespace
}  // namespace eddy::query

namespace eddy::query {
namespace {

// Pipeline-style updates: the document after the pipeline, the diff-derived updateDescription
// (as mongod's doc_diff for pipeline updates), or the error code.
struct PipelineCase {
  std::string doc;
  std::string pipeline;
  std::string expect = "";  // empty when an error is expected
  int code = 0;
  std::string desc = "";    // expected updateDescription (optional)
  bool modified = true;
  std::string let = "{}";
};

class PipelineUpdateTable : public ::testing::TestWithParam<PipelineCase> {};

TEST_P(PipelineUpdateTable, Applies) {
  const PipelineCase& c = GetParam();
  SCOPED_TRACE("doc=" + c.doc + " pipeline=" + c.pipeline);
  auto p = bson::ParseJsonValue(c.pipeline);
  ASSERT_TRUE(p.ok() && p->is_array()) << c.pipeline;
  UpdateContext ctx;
  ctx.now = bson::DateTime{1700000000000};
  auto parsed = Update::ParsePipeline(p->as_array(), J(c.let));
  Result<UpdateOutcome> out = parsed.ok() ? parsed->Apply(J(c.doc), ctx)
                                          : Result<UpdateOutcome>(parsed.status());
  if (c.code != 0) {
    ASSERT_FALSE(out.ok()) << S(out->document);
    EXPECT_EQ(static_cast<int>(out.status().code()), c.code) << out.status().ToString();
    return;
  }
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(parsed->is_pipeline());
  EXPECT_EQ(S(out->document), S(J(c.expect)));
  EXPECT_EQ(out->modified, c.modified);
  if (!c.desc.empty()) {
    EXPECT_EQ(S(out->description.ToDocument()), S(J(c.desc)));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Pipeline, PipelineUpdateTable,
    ::testing::Values(
        // $set / $addFields: new, changed and unchanged fields.
        PipelineCase{"{_id: 1, a: 1, b: 2}", "[{$set: {a: 5, c: 3}}]", "{_id: 1, a: 5, b: 2, c: 3}",
                     0, "{updatedFields: {a: 5, c: 3}, removedFields: [], truncatedArrays: []}"},
        PipelineCase{"{_id: 1, a: 1}", "[{$addFields: {a: 1}}]", "{_id: 1, a: 1}", 0,
                     "{updatedFields: {}, removedFields: [], truncatedArrays: []}", false},
        PipelineCase{"{_id: 1, a: 1, b: 2}", "[{$set: {b: {$add: ['$a', '$b']}}}]",
                     "{_id: 1, a: 1, b: 3}"},
        // $unset / $project remove fields; _id stays.
        PipelineCase{"{_id: 1, a: 1, b: 2}", "[{$unset: ['a']}]", "{_id: 1, b: 2}", 0,
                     "{updatedFields: {}, removedFields: ['a'], truncatedArrays: []}"},
        PipelineCase{"{_id: 1, a: 1, b: 2}", "[{$project: {b: 1}}]", "{_id: 1, b: 2}"},
        PipelineCase{"{_id: 1, a: 1}", "[{$unset: '_id'}]", "{_id: 1, a: 1}", 0, "", false},
        // $replaceRoot without _id keeps the original _id first.
        PipelineCase{"{_id: 1, t: {u: {v: 1}}}",
                     "[{$replaceRoot: {newRoot: '$t'}}, {$addFields: {foo: 1}}]",
                     "{_id: 1, u: {v: 1}, foo: 1}"},
        PipelineCase{"{_id: 1, a: 1}", "[{$replaceWith: {_id: 2}}]", "", 66},
        // Nested documents diff field by field; arrays element by element, with truncation.
        PipelineCase{"{_id: 1, s: {x: 1, y: 2}}", "[{$set: {'s.y': 3}}]",
                     "{_id: 1, s: {x: 1, y: 3}}", 0,
                     "{updatedFields: {'s.y': 3}, removedFields: [], truncatedArrays: []}"},
        PipelineCase{"{_id: 1, array: ['foo', {a: 'bar'}, 1, 2, 3]}",
                     "[{$set: {array: ['foo', {a: 'bar'}]}}]", "{_id: 1, array: ['foo', {a: 'bar'}]}",
                     0, "{updatedFields: {}, removedFields: [], "
                        "truncatedArrays: [{field: 'array', newSize: 2}]}"},
        PipelineCase{"{_id: 1, a: [1, {b: 1}]}", "[{$set: {a: [2, {b: 2}, 3]}}]",
                     "{_id: 1, a: [2, {b: 2}, 3]}", 0,
                     "{updatedFields: {'a.0': 2, 'a.1.b': 2, 'a.2': 3}, removedFields: [], "
                     "truncatedArrays: []}"},
        PipelineCase{"{_id: 1, a: 1}", "[{$set: {a: 1.0}}]", "{_id: 1, a: 1.0}", 0,
                     "{updatedFields: {a: 1.0}, removedFields: [], truncatedArrays: []}"},
        // 5.0+: a pipeline may create $-prefixed and dotted names.
        PipelineCase{"{_id: 1}",
                     "[{$replaceWith: {$setField: {field: {$literal: '$a'}, value: 1, "
                     "input: '$$ROOT'}}}]",
                     "{_id: 1, $a: 1}"},
        // let variables.
        PipelineCase{"{_id: 1}", "[{$set: {x: '$$v'}}]", "{_id: 1, x: 'hi'}", 0, "", true,
                     "{v: 'hi'}"},
        PipelineCase{"{_id: 1}", "[{$set: {x: '$$nope'}}]", "", 17276},
        // Only the document-shaping stages are allowed.
        PipelineCase{"{_id: 1}", "[{$match: {a: 1}}]", "", 72},
        PipelineCase{"{_id: 1}", "[{$group: {_id: null}}]", "", 72},
        PipelineCase{"{_id: 1}", "[{$set: {a: 1}, $unset: 'b'}]", "", 9}));

TEST(UpdateTest, PipelineUpsertBuildsFromQueryEqualities) {
  auto p = bson::ParseJsonValue("[{$set: {y: {$add: ['$x', 1]}}}]");
  ASSERT_TRUE(p.ok());
  auto u = Update::ParsePipeline(p->as_array(), Document());
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  UpdateContext ctx;
  auto doc = u->BuildUpsertDocument(J("{_id: 7, x: 2, z: {$gt: 1}}"), ctx);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(S(*doc), S(J("{_id: 7, x: 2, y: 3}")));
  auto bad = bson::ParseJsonValue("[{$set: {_id: 8}}]");
  auto u2 = Update::ParsePipeline(bad->as_array(), Document());
  ASSERT_TRUE(u2.ok());
  EXPECT_EQ(u2->BuildUpsertDocument(J("{_id: 7}"), ctx).status().code(),
            ErrorCode::kImmutableField);
}

}  // namespace
}  // namespace eddy::query
