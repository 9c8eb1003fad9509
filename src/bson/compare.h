// MongoDB's comparison order for BSON values (the "BSON type order"), used by $eq/$lt/...,
// sort, indexes, $min/$max and $group keys.
//   MinKey < Null/Undefined < numbers < String/Symbol < Document < Array < Binary < ObjectId
//   < Bool < DateTime < Timestamp < Regex < DBPointer < Code < CodeWithScope < MaxKey
// Numbers of different types compare by numeric value (1 == 1.0 == NumberLong(1)); NaN is
// equal to NaN and less than every other number. Strings compare by bytes (no collation).
#pragma once
#include <cstddef>
#include <cstdint>

#include "bson/value.h"

namespace eddy::bson {

// The canonical rank of a type in the comparison order (numbers share one rank, as do
// null/undefined and string/symbol).
int CanonicalTypeRank(Type t);

// <0, 0, >0.
int Compare(const Value& a, const Value& b);
// Documents compare field by field: type rank, then name, then value; shorter is less.
int Compare(const Document& a, const Document& b);

inline bool Equal(const Value& a, const Value& b) { return Compare(a, b) == 0; }

// A hash consistent with Compare()==0 (so 1, 1.0 and NumberLong(1) hash alike), for
// $group keys, $addToSet and distinct.
size_t Hash(const Value& v);

struct ValueLess {
  bool operator()(const Value& a, const Value& b) const { return Compare(a, b) < 0; }
};
struct ValueHash {
  size_t operator()(const Value& v) const { return Hash(v); }
};
struct ValueEq {
  bool operator()(const Value& a, const Value& b) const { return Compare(a, b) == 0; }
};

}  // namespace eddy::bson
