// Storage statistics: dbStats, collStats and the $collStats aggregation stage, with mongod's
// field names and scaling (mongosh's db.stats() runs dbStats, db.coll.stats() and
// totalIndexSize() run $collStats). Counts and data sizes are exact (a scan of the documents);
// storage and index sizes are RocksDB's estimates (query::Database::Stats).
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>

#include "bson/json.h"
#include "query/exec/views.h"
#include "wire/commands/command.h"

namespace eddy::wire {
namespace {

// `scale` divides every size (mongod: a number >= 1, truncated to an integer).
Result<int64_t> ScaleField(const bson::Document& spec, std::string_view where) {
  const bson::Value* v = spec.Get("scale");
  if (!v || v->is_nullish()) return int64_t{1};
  if (!v->is_number()) {
    return Status(ErrorCode::kTypeMismatch, std::string(where) + ".scale must be a number, found " +
                                                std::string(bson::TypeName(v->type())));
  }
  if (v->ToDouble() < 1) return Status(static_cast<ErrorCode>(51024), "scale has to be >= 1");
  return static_cast<int64_t>(v->ToDouble());
}

// The storageStats document of $collStats, which is also collStats' reply.
bson::Document StorageStats(const query::Database::CollectionStats& s, int64_t scale) {
  int64_t index_total = 0;
  bson::Document sizes;
  for (const auto& [name, bytes] : s.index_bytes) {
    index_total += bytes;
    sizes.Append(name, bytes / scale);
  }
  bson::Document r;
  r.Append("size", s.data_bytes / scale);
  r.Append("count", s.count);
  r.Append("avgObjSize", s.count ? s.data_bytes / s.count : int64_t{0});
  r.Append("numOrphanDocs", int64_t{0});
  r.Append("storageSize", s.storage_bytes / scale);
  r.Append("freeStorageSize", int64_t{0});
  r.Append("capped", false);
  r.Append("nindexes", static_cast<int32_t>(s.index_bytes.size()));
  r.Append("indexBuilds", bson::Array{});
  r.Append("totalIndexSize", index_total / scale);
  r.Append("totalSize", (s.storage_bytes + index_total) / scale);
  r.Append("indexSizes", std::move(sizes));
  r.Append("scaleFactor", scale);
  return r;
}

Result<bson::Document> DbStats(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(int64_t scale, ScaleField(cmd, "dbStats"));
  int64_t collections = 0, views = 0, objects = 0, data = 0, storage = 0, indexes = 0, index_bytes = 0;
  for (const storage::CollectionPtr& c : ctx.db->engine().catalog()->List(ctx.db_name)) {
    if (query::IsView(*c)) {
      views++;
      continue;
    }
    Result<query::Database::CollectionStats> s = ctx.db->Stats(ctx.db_name, c->name);
    if (!s.ok()) {
      if (s.status().code() == ErrorCode::kNamespaceNotFound) continue;  // dropped meanwhile
      return s.status();
    }
    collections++;
    objects += s->count;
    data += s->data_bytes;
    storage += s->storage_bytes;
    for (const auto& [name, bytes] : s->index_bytes) {
      indexes++;
      index_bytes += bytes;
    }
  }
  bson::Document r;
  r.Append("db", ctx.db_name);
  r.Append("collections", static_cast<int32_t>(collections));
  r.Append("views", static_cast<int32_t>(views));
  r.Append("objects", objects);
  r.Append("avgObjSize", objects ? static_cast<double>(data) / static_cast<double>(objects) : 0.0);
  r.Append("dataSize", static_cast<double>(data / scale));
  r.Append("storageSize", static_cast<double>(storage / scale));
  r.Append("indexes", static_cast<int32_t>(indexes));
  r.Append("indexSize", static_cast<double>(index_bytes / scale));
  r.Append("totalSize", static_cast<double>((storage + index_bytes) / scale));
  r.Append("scaleFactor", scale);
  // The file system holding the data directory, as mongod reports its dbPath's.
  struct statvfs fs {};
  if (::statvfs(ctx.db->engine().options().path.c_str(), &fs) == 0) {
    const double total = static_cast<double>(fs.f_blocks) * static_cast<double>(fs.f_frsize);
    const double free = static_cast<double>(fs.f_bfree) * static_cast<double>(fs.f_frsize);
    r.Append("fsUsedSize", (total - free) / static_cast<double>(scale));
    r.Append("fsTotalSize", total / static_cast<double>(scale));
  }
  r.Append("ok", 1.0);
  return r;
}

// collStats (deprecated in mongod 6.2 in favour of $collStats, still served by 7.0). A
// collection that does not exist reports zeros, as mongod does.
Result<bson::Document> CollStats(CommandContext& ctx, const bson::Document& cmd) {
  EDDY_ASSIGN_OR_RETURN(std::string coll, CollectionName(cmd));
  EDDY_ASSIGN_OR_RETURN(int64_t scale, ScaleField(cmd, "collStats"));
  Result<query::Database::CollectionStats> s = ctx.db->Stats(ctx.db_name, coll);
  query::Database::CollectionStats none;
  if (!s.ok() && s.status().code() != ErrorCode::kNamespaceNotFound) return s.status();
  bson::Document r{{"ns", ctx.db_name + "." + coll}};
  for (bson::Field& f : StorageStats(s.ok() ? *s : none, scale)) r.Append(f.name, std::move(f.value));
  r.Append("ok", 1.0);
  return r;
}

}  // namespace

Result<bson::Document> CollStatsStage(CommandContext& ctx, std::string_view coll, const bson::Value& spec) {
  if (!spec.is_document()) {
    return Status(ErrorCode::kFailedToParse, "$collStats must take a nested object but found: " +
                                                 bson::ToJson(spec));
  }
  bson::Document out;
  out.Append("ns", ctx.db_name + "." + std::string(coll));
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  out.Append("host", std::string(host));
  using namespace std::chrono;
  out.Append("localTime",
             bson::DateTime{duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count()});
  for (const bson::Field& f : spec.as_document()) {
    if (f.name == "latencyStats" || f.name == "queryExecStats") {
      // eddy keeps no per-collection latency or plan counters: say so rather than report zeros.
      return Status(ErrorCode::kNotImplemented, "$collStats." + f.name + " is not supported by eddy");
    } else if (f.name == "storageStats") {
      if (!f.value.is_document()) return Status(ErrorCode::kTypeMismatch, "storageStats argument must be an object");
      EDDY_ASSIGN_OR_RETURN(int64_t scale, ScaleField(f.value.as_document(), "$collStats.storageStats"));
      Result<query::Database::CollectionStats> s = ctx.db->Stats(ctx.db_name, coll);
      if (!s.ok()) {
        return s.status().WithPrefix("Unable to retrieve storageStats in $collStats stage :: caused by :: ");
      }
      out.Append("storageStats", StorageStats(*s, scale));
    } else if (f.name == "count") {
      if (!f.value.is_document()) return Status(ErrorCode::kTypeMismatch, "count argument must be an object");
      Result<query::Database::CollectionStats> s = ctx.db->Stats(ctx.db_name, coll);
      if (!s.ok()) return s.status().WithPrefix("Unable to retrieve count in $collStats stage :: caused by :: ");
      out.Append("count", s->count);
    } else {
      return Status(static_cast<ErrorCode>(40415), "BSON field '$collStats." + f.name + "' is an unknown field.");
    }
  }
  return out;
}

void RegisterStatsCommands(CommandTable& t) {
  t["dbStats"] = {DbStats};
  t["dbstats"] = {DbStats};
  t["collStats"] = {CollStats, false, true};
  t["collstats"] = {CollStats, false, true};
}

}  // namespace eddy::wire
