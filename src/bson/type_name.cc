#include "bson/value.h"

namespace eddy::bson {

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kDouble: return "double";
    case Type::kString: return "string";
    case Type::kDocument: return "object";
    case Type::kArray: return "array";
    case Type::kBinary: return "binData";
    case Type::kUndefined: return "undefined";
    case Type::kObjectId: return "objectId";
    case Type::kBool: return "bool";
    case Type::kDateTime: return "date";
    case Type::kNull: return "null";
    case Type::kRegex: return "regex";
    case Type::kDBPointer: return "dbPointer";
    case Type::kJavaScript: return "javascript";
    case Type::kSymbol: return "symbol";
    case Type::kJavaScriptWithScope: return "javascriptWithScope";
    case Type::kInt32: return "int";
    case Type::kTimestamp: return "timestamp";
    case Type::kInt64: return "long";
    case Type::kDecimal128: return "decimal";
    case Type::kMinKey: return "minKey";
    case Type::kMaxKey: return "maxKey";
    case Type::kEOO: break;
  }
  return "unknown";
}

}  // namespace eddy::bson
