#include "changestream/change_stream.h"

#include <cstring>

#include <limits>

#include "bson/codec.h"
#include "bson/compare.h"
#include "bson/json.h"
#include "bson/raw.h"
#include "changestream/hub.h"
#include "changestream/resume_token.h"
#include "storage/key_encoding.h"

namespace eddy::changestream {

namespace {

bool IsExpandedOnly(std::string_view op) {
  return op == "create" || op == "createIndexes" || op == "dropIndexes" || op == "modify";
}

bool IsInternalNamespace(std::string_view db, std::string_view coll) {
  return db == "admin" || db == "config" || db == "local" || coll.starts_with("system.") ||
         coll.find('$') != std::string_view::npos;
}


bool InScopeOf(std::string_view op, std::string_view db, std::string_view coll,
               const WatchOptions& options) {
  if (!options.show_expanded_events && IsExpandedOnly(op)) return false;
  if (!options.db.empty() && db != options.db) return false;
  if (!options.collection.empty() && (op == "dropDatabase" || coll != options.collection)) {
    return false;
  }
  if (options.db.empty() && IsInternalNamespace(db, coll)) return false;
  return true;
}

bool InScopeOf(const bson::Document& entry, const WatchOptions& options) {
  const bson::Value* coll_v = entry.Get("coll");
  return InScopeOf(entry.Get("op")->as_string(), entry.Get("db")->as_string(),
                   coll_v ? std::string_view(coll_v->as_string()) : std::string_view(), options);
}

// A collection stream ends at the drop or rename of its collection, a database stream at the
// drop of its database; a deployment stream never ends.
bool EndsStream(const bson::Document& entry, const WatchOptions& options) {
  if (options.db.empty()) return false;
  const std::string& op = entry.Get("op")->as_string();
  if (options.collection.empty()) return op == "dropDatabase" && InScopeOf(entry, options);
  return (op == "drop" || op == "rename") && InScopeOf(entry, options);
}

}  // namespace

namespace {

// An entry's field, mutable when the event may take it (kTake: the entry is not shared).
template <bool kTake>
using EntryValuePtr = std::conditional_t<kTake, bson::Value*, const bson::Value*>;
template <bool kTake>
using EntryRef = std::conditional_t<kTake, bson::Document&, const bson::Document&>;

template <bool kTake>
EntryValuePtr<kTake> EntryField(EntryRef<kTake> entry, std::string_view name) {
  if constexpr (kTake) {
    return entry.GetMutable(name);
  } else {
    return entry.Get(name);
  }
}

// The value for the event: moved out of the entry when it is the event's to take.
template <bool kTake>
bson::Value TakeValue(EntryValuePtr<kTake> v) {
  if constexpr (kTake) {
    return std::move(*v);
  } else {
    return *v;
  }
}

// BuildEvent. With kTake the entry's "doc", "pre", "dk" and "ud" are moved into the event
// (each is used once); "op", "db", "coll", "ts", "wall" and "to" stay for the caller.
template <bool kTake>
Result<std::optional<bson::Document>> BuildEventImpl(EntryRef<kTake> entry,
                                                     const WatchOptions& options,
                                                     storage::Engine* engine) {
  if (!InScopeOf(entry, options)) return std::optional<bson::Document>();
  const std::string& op = entry.Get("op")->as_string();
  const std::string& db = entry.Get("db")->as_string();
  const bson::Value* coll_v = entry.Get("coll");
  std::string coll = coll_v ? coll_v->as_string() : std::string();

  ResumeToken token;
  token.kind = ResumeToken::kEvent;
  token.cluster_time = entry.Get("ts")->as_timestamp();
  EntryValuePtr<kTake> dk = EntryField<kTake>(entry, "dk");
  if (dk) {
    if (const bson::Value* id = dk->as_document().Get("_id")) {
      token.document_key = storage::KeyString(*id);
    }
  }
  bson::Document e;
  e.mutable_fields().reserve(10);
  e.Append("_id", token.ToDocument());
  e.Append("operationType", op);
  e.Append("clusterTime", token.cluster_time);
  e.Append("wallTime", *entry.Get("wall"));
  EntryValuePtr<kTake> doc = EntryField<kTake>(entry, "doc");
  if ((op == "insert" || op == "replace") && doc) e.Append("fullDocument", TakeValue<kTake>(doc));
  bson::Document ns;
  ns.mutable_fields().reserve(2);
  ns.Append("db", db);
  if (!coll.empty()) ns.Append("coll", coll);
  e.Append("ns", std::move(ns));
  if (dk) e.Append("documentKey", TakeValue<kTake>(dk));
  if (op == "update") {
    EntryValuePtr<kTake> ud = EntryField<kTake>(entry, "ud");
    // disambiguatedPaths is reported only with showExpandedEvents (as mongod 7.0 does).
    if (ud && !options.show_expanded_events && ud->is_document() &&
        ud->as_document().Has("disambiguatedPaths")) {
      bson::Document plain;
      for (const bson::Field& f : ud->as_document()) {
        if (f.name != "disambiguatedPaths") plain.Append(f.name, f.value);
      }
      e.Append("updateDescription", std::move(plain));
    } else if (ud) {
      e.Append("updateDescription", TakeValue<kTake>(ud));
    } else {
      e.Append("updateDescription", bson::Document{{"updatedFields", bson::Document()},
                                                   {"removedFields", bson::Array()},
                                                   {"truncatedArrays", bson::Array()}});
    }
    switch (options.full_document) {
      case FullDocument::kDefault:
        break;
      case FullDocument::kUpdateLookup: {
        // The current version of the document, or null if it is gone (as MongoDB does).
        if (engine == nullptr) {
          e.Append("fullDocument", bson::Value());
          break;
        }
        std::unique_ptr<storage::ReadView> view = engine->NewReadView();
        storage::CollectionPtr c = view->catalog().Find(db, coll);
        bson::Value current;
        // The entry's documentKey may have moved into the event already.
        const bson::Value* key = e.Get("documentKey");
        const bson::Value* id =
            key && key->is_document() ? key->as_document().Get("_id") : nullptr;
        if (c && id) {
          EDDY_ASSIGN_OR_RETURN(std::optional<bson::Document> found, view->FindById(*c, *id));
          if (found) current = std::move(*found);
        }
        e.Append("fullDocument", std::move(current));
        break;
      }
      case FullDocument::kWhenAvailable:
      case FullDocument::kRequired:
        if (doc) {
          e.Append("fullDocument", TakeValue<kTake>(doc));
        } else if (options.full_document == FullDocument::kRequired) {
          return Status(static_cast<ErrorCode>(47),
                        "Change stream was configured to require a post-image for all update, "
                        "delete and replace events, but the post-image was not found for event: " +
                            std::string(bson::ToJson(token.ToDocument())));
        } else {
          e.Append("fullDocument", bson::Value());
        }
        break;
    }
  }
  if (op == "update" || op == "replace" || op == "delete") {
    if (options.full_document_before_change != FullDocumentBeforeChange::kOff) {
      if (EntryValuePtr<kTake> pre = EntryField<kTake>(entry, "pre")) {
        e.Append("fullDocumentBeforeChange", TakeValue<kTake>(pre));
      } else if (options.full_document_before_change == FullDocumentBeforeChange::kRequired) {
        return Status(static_cast<ErrorCode>(47),
                      "Change stream was configured to require a pre-image for all update, "
                      "delete and replace events, but no pre-image was found");
      } else {
        e.Append("fullDocumentBeforeChange", bson::Value());
      }
    }
  }
  if (op == "rename") e.Append("to", *entry.Get("to"));
  if (options.show_expanded_events) {
    if (const bson::Value* ui = entry.Get("ui")) e.Append("collectionUUID", *ui);
    if (op == "rename") {
      // mongod: {to, dropTarget: <UUID of the collection the rename replaced>}.
      bson::Document d{{"to", *entry.Get("to")}};
      if (const bson::Value* dt = entry.Get("dropTarget")) d.Append("dropTarget", *dt);
      e.Append("operationDescription", std::move(d));
    } else if (const bson::Value* o = entry.Get("o")) {
      if (op == "createIndexes" || op == "dropIndexes") {
        e.Append("operationDescription", bson::Document{{"indexes", bson::Array{*o}}});
      } else {
        e.Append("operationDescription", *o);
      }
    }
  }
  return std::optional<bson::Document>(std::move(e));
}

}  // namespace

Result<std::optional<bson::Document>> BuildEvent(const bson::Document& entry,
                                                 const WatchOptions& options,
                                                 storage::Engine* engine) {
  return BuildEventImpl<false>(entry, options, engine);
}

Result<std::optional<bson::Document>> BuildEvent(bson::Document&& entry,
                                                 const WatchOptions& options,
                                                 storage::Engine* engine) {
  return BuildEventImpl<true>(entry, options, engine);
}

// ---------------------------------------------------------------------------------------
// Events as bytes

namespace {

bool IsCrud(std::string_view op) {
  return op == "insert" || op == "update" || op == "replace" || op == "delete";
}

// The fields of a change-log entry the CRUD events read, as views of the entry's bytes.
// Absent elements have type kEOO.
struct RawEntry {
  std::string_view op, db, coll;
  bson::Timestamp ts;
  bson::RawElement wall, dk, doc, pre, ud, ui;
};

Status MalformedEntry(std::string_view what) {
  return Status(ErrorCode::kInvalidBSON, "malformed change-log entry: " + std::string(what));
}

Status ParseRawEntry(std::string_view raw, RawEntry* r) {
  bson::RawIterator it(raw);
  bson::RawElement e;
  bool has_op = false, has_db = false, has_ts = false;
  while (it.Next(&e)) {
    std::string_view n = e.name;
    if (n.size() > 4) continue;  // every field the events read has a short name
    auto string_field = [&](std::string_view* out, bool* has) -> Status {
      if (e.type != bson::Type::kString) return MalformedEntry("'" + std::string(n) + "' is not a string");
      *out = e.string_value();
      if (has) *has = true;
      return Status::OK();
    };
    if (n == "op") {
      EDDY_RETURN_IF_ERROR(string_field(&r->op, &has_op));
    } else if (n == "db") {
      EDDY_RETURN_IF_ERROR(string_field(&r->db, &has_db));
    } else if (n == "coll") {
      EDDY_RETURN_IF_ERROR(string_field(&r->coll, nullptr));
    } else if (n == "ts") {
      if (e.type != bson::Type::kTimestamp) return MalformedEntry("'ts' is not a timestamp");
      r->ts = e.timestamp_value();
      has_ts = true;
    } else if (n == "wall") {
      r->wall = e;
    } else if (n == "dk") {
      r->dk = e;
    } else if (n == "doc") {
      r->doc = e;
    } else if (n == "pre") {
      r->pre = e;
    } else if (n == "ud") {
      r->ud = e;
    } else if (n == "ui") {
      r->ui = e;
    }
  }
  EDDY_RETURN_IF_ERROR(it.status());
  if (!has_op || !has_db || !has_ts || r->wall.type == bson::Type::kEOO) {
    return MalformedEntry("it lacks one of op, db, ts, wall");
  }
  if (r->dk.type != bson::Type::kEOO && r->dk.type != bson::Type::kDocument) {
    return MalformedEntry("'dk' is not a document");
  }
  return Status::OK();
}

// A fixed-size element's value as a T (nullopt when the size is off).
template <typename T>
std::optional<bson::Value> FixedValue(const bson::RawElement& e) {
  if (e.value.size() != sizeof(T)) return std::nullopt;
  T v;
  std::memcpy(&v, e.value.data(), sizeof(T));
  return bson::Value(v);
}

// An int, long, double, string or ObjectId element as a Value (nullopt for other types).
std::optional<bson::Value> ScalarValue(const bson::RawElement& e) {
  switch (e.type) {
    case bson::Type::kInt32:
      return FixedValue<int32_t>(e);
    case bson::Type::kInt64:
      return FixedValue<int64_t>(e);
    case bson::Type::kDouble:
      return FixedValue<double>(e);
    case bson::Type::kString:
      return bson::Value(std::string(e.string_value()));
    case bson::Type::kObjectId:
      static_assert(sizeof(bson::ObjectId) == 12, "an ObjectId is its 12 bytes");
      return FixedValue<bson::ObjectId>(e);
    default:
      return std::nullopt;
  }
}

// The CRUD event of `r` (in scope under `options`) appended to *out, field for field as
// BuildEventImpl makes it. On error *out is as before.
Status AppendCrudEvent(const RawEntry& r, const WatchOptions& options, storage::Engine* engine,
                       std::string* out) {
  const size_t start = out->size();
  ResumeToken token;
  token.kind = ResumeToken::kEvent;
  token.cluster_time = r.ts;
  std::optional<bson::Value> id;  // documentKey._id, decoded (for the token and updateLookup)
  if (r.dk.type == bson::Type::kDocument) {
    // The common _id types are read straight from the key's bytes (this runs for every
    // event); others decode the key document.
    bson::RawElement raw_id;
    if (bson::FindRawElement(r.dk.value, "_id", &raw_id)) id = ScalarValue(raw_id);
    if (!id) {
      bson::DecodeOptions o;
      o.validate_utf8 = false;  // checked when the document was written
      EDDY_ASSIGN_OR_RETURN(bson::Document key, bson::Decode(r.dk.value, o));
      if (bson::Value* v = key.GetMutable("_id")) id = std::move(*v);
    }
    if (id) token.document_key = storage::KeyString(*id);
  }
  const bool update = r.op == "update";
  bson::RawBuilder b(out);
  size_t tok = b.OpenDocument("_id");
  token.WriteData(b.AppendStringUninitialized("_data", token.DataSize()));
  b.CloseDocument(tok);
  b.AppendString("operationType", r.op);
  b.AppendTimestamp("clusterTime", r.ts);
  b.AppendElement("wallTime", r.wall);
  if ((r.op == "insert" || r.op == "replace") && r.doc.type != bson::Type::kEOO) {
    b.AppendElement("fullDocument", r.doc);
  }
  size_t ns = b.OpenDocument("ns");
  b.AppendString("db", r.db);
  if (!r.coll.empty()) b.AppendString("coll", r.coll);
  b.CloseDocument(ns);
  if (r.dk.type != bson::Type::kEOO) b.AppendElement("documentKey", r.dk);
  auto fail = [&](Status s) {
    out->resize(start);
    return s;
  };
  if (update) {
    bson::RawElement dp;
    if (r.ud.type == bson::Type::kDocument && !options.show_expanded_events &&
        bson::FindRawElement(r.ud.value, "disambiguatedPaths", &dp)) {
      // disambiguatedPaths is reported only with showExpandedEvents (as mongod 7.0 does).
      size_t ud = b.OpenDocument("updateDescription");
      bson::RawIterator it(r.ud.value);
      bson::RawElement f;
      while (it.Next(&f)) {
        if (f.name != "disambiguatedPaths") b.AppendElement(f);
      }
      b.CloseDocument(ud);
    } else if (r.ud.type != bson::Type::kEOO) {
      b.AppendElement("updateDescription", r.ud);
    } else {
      size_t ud = b.OpenDocument("updateDescription");
      b.CloseDocument(b.OpenDocument("updatedFields"));
      b.CloseArray(b.OpenArray("removedFields"));
      b.CloseArray(b.OpenArray("truncatedArrays"));
      b.CloseDocument(ud);
    }
    switch (options.full_document) {
      case FullDocument::kDefault:
        break;
      case FullDocument::kUpdateLookup: {
        // The current version of the document, or null if it is gone (as MongoDB does).
        std::optional<bson::Document> found;
        if (engine != nullptr && id) {
          std::unique_ptr<storage::ReadView> view = engine->NewReadView();
          storage::CollectionPtr c = view->catalog().Find(std::string(r.db), std::string(r.coll));
          if (c) {
            Result<std::optional<bson::Document>> read = view->FindById(*c, *id);
            if (!read.ok()) return fail(read.status());
            found = std::move(read).value();
          }
        }
        if (found) {
          b.AppendValue("fullDocument", bson::Value(std::move(*found)));
        } else {
          b.AppendNull("fullDocument");
        }
        break;
      }
      case FullDocument::kWhenAvailable:
      case FullDocument::kRequired:
        if (r.doc.type != bson::Type::kEOO) {
          b.AppendElement("fullDocument", r.doc);
        } else if (options.full_document == FullDocument::kRequired) {
          return fail(Status(static_cast<ErrorCode>(47),
                             "Change stream was configured to require a post-image for all "
                             "update, delete and replace events, but the post-image was not "
                             "found for event: " +
                                 std::string(bson::ToJson(token.ToDocument()))));
        } else {
          b.AppendNull("fullDocument");
        }
        break;
    }
  }
  if (r.op != "insert" && options.full_document_before_change != FullDocumentBeforeChange::kOff) {
    if (r.pre.type != bson::Type::kEOO) {
      b.AppendElement("fullDocumentBeforeChange", r.pre);
    } else if (options.full_document_before_change == FullDocumentBeforeChange::kRequired) {
      return fail(Status(static_cast<ErrorCode>(47),
                         "Change stream was configured to require a pre-image for all update, "
                         "delete and replace events, but no pre-image was found"));
    } else {
      b.AppendNull("fullDocumentBeforeChange");
    }
  }
  if (options.show_expanded_events && r.ui.type != bson::Type::kEOO) {
    b.AppendElement("collectionUUID", r.ui);
  }
  b.Finish();
  return Status::OK();
}

// The first field's value of an encoded event (its _id) and that token's _data.
std::string_view EventTokenData(std::string_view event) {
  bson::RawElement id, data;
  if (!bson::FindRawElement(event, "_id", &id) || id.type != bson::Type::kDocument) return {};
  if (!bson::FindRawElement(id.value, "_data", &data) || data.type != bson::Type::kString) return {};
  return data.string_value();
}

Result<bson::Document> DecodeEvent(std::string_view bytes) {
  bson::DecodeOptions o;
  o.max_size = std::numeric_limits<int32_t>::max();  // events may exceed 16 MiB (split later)
  o.validate_utf8 = false;                           // made of checked documents
  return bson::Decode(bytes, o);
}

}  // namespace

Result<bool> BuildEncodedEvent(std::string_view raw_entry, const WatchOptions& options,
                               storage::Engine* engine, std::string* out) {
  RawEntry r;
  EDDY_RETURN_IF_ERROR(ParseRawEntry(raw_entry, &r));
  if (!InScopeOf(r.op, r.db, r.coll, options)) return false;
  if (IsCrud(r.op)) {
    EDDY_RETURN_IF_ERROR(AppendCrudEvent(r, options, engine, out));
    return true;
  }
  EDDY_ASSIGN_OR_RETURN(bson::Document entry, DecodeEntry(raw_entry));
  EDDY_ASSIGN_OR_RETURN(std::optional<bson::Document> event,
                        BuildEvent(std::move(entry), options, engine));
  if (!event) return false;
  bson::EncodeTo(*event, out);
  return true;
}

// ---------------------------------------------------------------------------------------
// Interest

namespace {

void ValuesAt(const bson::Value& v, std::string_view rest, std::vector<const bson::Value*>* out,
              bool* ambiguous) {
  if (rest.empty()) {
    out->push_back(&v);
    if (v.is_array()) {
      for (const bson::Value& e : v.as_array()) out->push_back(&e);
    }
    return;
  }
  if (v.is_document()) {
    size_t dot = rest.find('.');
    std::string_view head = rest.substr(0, dot);
    std::string_view tail = dot == std::string_view::npos ? std::string_view() : rest.substr(dot + 1);
    if (const bson::Value* c = v.as_document().Get(head)) {
      if (tail.empty() && dot != std::string_view::npos) return;  // "a." is no path
      ValuesAt(*c, tail, out, ambiguous);
    }
  } else if (v.is_array()) {
    *ambiguous = true;
  }
}

}  // namespace

void EntryValuesAt(const bson::Document& entry, std::string_view path,
                   std::vector<const bson::Value*>* out, bool* ambiguous) {
  size_t dot = path.find('.');
  const bson::Value* top = entry.Get(path.substr(0, dot));
  if (!top) return;
  ValuesAt(*top, dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1), out,
           ambiguous);
}

namespace {

// The change-log field holding what an event path reads, or "" when the event path has no
// fixed counterpart in the entry.
std::string EntryPath(std::string_view event_path, const WatchOptions& o) {
  auto under = [&](std::string_view prefix, std::string_view entry_prefix) -> std::string {
    if (event_path.size() > prefix.size() && event_path.starts_with(prefix) &&
        event_path[prefix.size()] == '.') {
      return std::string(entry_prefix) + std::string(event_path.substr(prefix.size()));
    }
    return std::string();
  };
  if (event_path == "operationType") return "op";
  if (event_path == "ns.db") return "db";
  if (event_path == "ns.coll") return "coll";
  if (std::string p = under("documentKey", "dk"); !p.empty()) return p;
  if (std::string p = under("updateDescription", "ud"); !p.empty()) return p;
  // With updateLookup an update's fullDocument is read at event time, not logged.
  if (o.full_document != FullDocument::kUpdateLookup) {
    if (std::string p = under("fullDocument", "doc"); !p.empty()) return p;
  }
  if (std::string p = under("fullDocumentBeforeChange", "pre"); !p.empty()) return p;
  return std::string();
}

}  // namespace

Interest::Interest(WatchOptions options, query::Matcher matcher)
    : options_(std::move(options)), matcher_(std::move(matcher)) {}

Result<std::shared_ptr<const Interest>> Interest::Make(WatchOptions options) {
  EDDY_ASSIGN_OR_RETURN(query::Matcher matcher, query::Matcher::Compile(options.filter));
  std::shared_ptr<Interest> in(new Interest(std::move(options), std::move(matcher)));
  // Anchor on the most selective equality the filter implies: a value predicate beats
  // operationType, fewer values beat more.
  size_t best = 0;
  for (query::PathPredicate& p : query::ExtractIndexablePredicates(in->options_.filter)) {
    if (p.kind == query::PathPredicate::kRange) continue;
    std::string path = EntryPath(p.path, in->options_);
    if (path.empty()) continue;
    std::vector<bson::Value> values;
    if (p.kind == query::PathPredicate::kEq) values.push_back(p.eq);
    else values = p.in;
    if (values.empty()) continue;
    size_t score = (path == "op" ? 1000 : 0) + values.size();
    if (in->anchor_path_.empty() || score < best) {
      best = score;
      in->anchor_path_ = std::move(path);
      in->anchor_values_ = std::move(values);
    }
  }
  return std::shared_ptr<const Interest>(std::move(in));
}

std::string Interest::bucket_key() const {
  if (options_.collection.empty()) return options_.db;
  return options_.db + std::string(1, '\0') + options_.collection;
}

bool Interest::InScope(const bson::Document& entry) const { return InScopeOf(entry, options_); }

bool Interest::MayConcern(const bson::Document& entry) const {
  if (!InScopeOf(entry, options_)) return false;
  if (anchor_path_.empty() || EndsStream(entry, options_)) return true;
  std::vector<const bson::Value*> values;
  bool ambiguous = false;
  EntryValuesAt(entry, anchor_path_, &values, &ambiguous);
  if (ambiguous) return true;
  for (const bson::Value* v : values) {
    for (const bson::Value& want : anchor_values_) {
      if (bson::Compare(*v, want) == 0) return true;
    }
  }
  return false;
}

std::optional<bool> Interest::ConcernsByName(std::string_view op, std::string_view db,
                                             std::string_view coll) const {
  if (!InScopeOf(op, db, coll, options_)) return false;
  // A write in scope always makes an event (or an error) for a stream without a filter.
  if (matches_everything() && IsCrud(op)) return true;
  return std::nullopt;
}

bool Interest::Concerns(const bson::Document& entry) const {
  if (!InScopeOf(entry, options_)) return false;
  if (EndsStream(entry, options_)) return true;
  if (options_.full_document == FullDocument::kUpdateLookup &&
      entry.Get("op")->as_string() == "update") {
    return true;
  }
  Result<std::optional<bson::Document>> event = BuildEvent(entry, options_, nullptr);
  if (!event.ok()) return true;  // the stream will report the error
  return event->has_value() && matcher_.Matches(**event);
}

// ---------------------------------------------------------------------------------------
// ChangeStream

struct ChangeStream::Skip {
  std::mutex mu;
  uint64_t from = 0;  // the position the wake was armed at
  uint64_t to = 0;    // entries up to here were checked and do not concern the stream
};

Result<std::unique_ptr<ChangeStream>> ChangeStream::Open(storage::Engine* engine,
                                                         WatchOptions options, Hub* hub) {
  EDDY_ASSIGN_OR_RETURN(std::shared_ptr<const Interest> interest, Interest::Make(std::move(options)));
  std::unique_ptr<ChangeStream> cs(new ChangeStream(engine, std::move(interest), hub));
  const WatchOptions& o = cs->interest_->options();
  std::optional<ResumeToken> token;
  if (o.resume_after) {
    EDDY_ASSIGN_OR_RETURN(ResumeToken t, ResumeToken::Parse(bson::Value(*o.resume_after)));
    token = t;
    if (t.kind == ResumeToken::kInvalidate && !o.start_after) {
      return Status(static_cast<ErrorCode>(260),
                    "Attempting to resume a change stream using 'resumeAfter' is not allowed "
                    "from an invalidate notification.");
    }
    cs->position_ = t.cluster_time;
    // A fragment of a split event: the event is produced again (the splitter skips the
    // fragments delivered before).
    if (t.kind == ResumeToken::kEvent && t.fragment > 0) {
      cs->position_ = bson::Timestamp::FromUint64(t.cluster_time.AsUint64() - 1);
    }
  } else if (o.start_at_operation_time) {
    uint64_t at = o.start_at_operation_time->AsUint64();
    cs->position_ = bson::Timestamp::FromUint64(at == 0 ? 0 : at - 1);
  } else {
    cs->position_ = engine->committed();
  }
  if (cs->position_ < engine->history_start()) {
    return Status(ErrorCode::kChangeStreamHistoryLost,
                  "Resume of change stream was not possible, as the resume point may no longer "
                  "be in the oplog.");
  }
  if (token && token->kind == ResumeToken::kEvent) {
    // The token must name an event this server logged (and still holds).
    bson::Timestamp before = bson::Timestamp::FromUint64(token->cluster_time.AsUint64() - 1);
    EDDY_ASSIGN_OR_RETURN(std::vector<storage::ChangeLogEntry> at, engine->ReadChangeLog(before, 1));
    if (at.empty() || at[0].ts != token->cluster_time) {
      return Status(ErrorCode::kChangeStreamFatalError,
                    "cannot resume stream; the resume token was not found. " +
                        bson::ToJson(*o.resume_after));
    }
    EDDY_ASSIGN_OR_RETURN(bson::Document entry, DecodeEntry(at[0].raw));
    if (token->fragment == 0 && EndsStream(entry, o)) {
      // Resuming from the drop/rename itself: the invalidate comes next.
      ResumeToken inv = *token;
      inv.kind = ResumeToken::kInvalidate;
      inv.document_key.clear();
      bson::Document e;
      e.Append("_id", inv.ToDocument());
      e.Append("operationType", "invalidate");
      e.Append("clusterTime", token->cluster_time);
      e.Append("wallTime", *entry.Get("wall"));
      cs->pending_invalidate_ = std::move(e);
    }
  }
  cs->position_seen_.store(cs->position_.AsUint64(), std::memory_order_relaxed);
  return cs;
}

ChangeStream::ChangeStream(storage::Engine* engine, std::shared_ptr<const Interest> interest,
                           Hub* hub)
    : engine_(engine), interest_(std::move(interest)), hub_(hub), skip_(std::make_shared<Skip>()) {}

ChangeStream::~ChangeStream() { CancelWake(); }

namespace {
// !Interest::MayConcern from a CRUD entry's bytes: true only when it is certainly false, i.e.
// the anchor path leads through documents only to a string or number that equals none of
// the anchor values (compared as MayConcern compares). Anything else (no anchor, a missing
// value, an array on the way, another type) is left to the decoded entry.
//
// The decision, given the value found at the anchor path (`found`: the path led to `e`).
bool RawAnchorValueExcludes(const Interest& interest, bool found, const bson::RawElement& e) {
  if (!found) return false;
  bson::Value v;
  switch (e.type) {
    case bson::Type::kString:
      v = bson::Value(e.string_value());
      break;
    case bson::Type::kInt32: {
      int32_t i;
      std::memcpy(&i, e.value.data(), 4);
      v = bson::Value(i);
      break;
    }
    case bson::Type::kInt64:
      v = bson::Value(static_cast<int64_t>(e.int64_bits()));
      break;
    case bson::Type::kDouble: {
      double d;
      std::memcpy(&d, e.value.data(), 8);
      v = bson::Value(d);
      break;
    }
    default:
      return false;
  }
  for (const bson::Value& want : interest.anchor_values()) {
    if (bson::Compare(v, want) == 0) return false;
  }
  return true;
}

// For an entry's bytes, searched here.
bool RawAnchorExcludes(const Interest& interest, std::string_view raw) {
  const std::string& path = interest.anchor_path();
  if (path.empty()) return false;
  bson::RawElement e;
  const bool found = bson::FindRawPath(raw, path, &e);
  return RawAnchorValueExcludes(interest, found, e);
}

// For a ring entry, whose value at the anchor is found once for every stream.
bool RawAnchorExcludes(const Interest& interest, const TailEntry& entry) {
  const std::string& path = interest.anchor_path();
  if (path.empty()) return false;
  bson::RawElement e;
  const bool found = entry.RawValueAt(path, &e);
  return RawAnchorValueExcludes(interest, found, e);
}
}  // namespace

Status ChangeStream::Consume(bson::Timestamp ts, std::string_view raw,
                             const bson::Document* decoded) {
  const WatchOptions& o = interest_->options();
  if (interest_->matches_everything()) {
    // Every event in scope is ours: CRUD events are made from the entry's bytes, no entry or
    // event is ever decoded (BuildEncodedEvent decodes the other, rare, kinds).
    RawEntry r;
    EDDY_RETURN_IF_ERROR(ParseRawEntry(raw, &r));
    if (!InScopeOf(r.op, r.db, r.coll, o)) {
      position_ = ts;
      return Status::OK();
    }
    if (IsCrud(r.op)) {  // never ends a stream
      const size_t start = ready_bytes_.size();
      EDDY_RETURN_IF_ERROR(AppendCrudEvent(r, o, engine_, &ready_bytes_));
      Ready(start);
      position_ = ts;
      return Status::OK();
    }
  }
  // A filter: most entries are not for this stream. Where the entry's bytes decide that (out
  // of scope, or a write whose value at the filter's anchor equals none of the anchor's
  // values), skip it undecoded: a hundred streams filtering one region each read the same
  // entries, and decoding every entry for every stream was most of their cost.
  if (decoded == nullptr) {
    RawEntry r;
    if (ParseRawEntry(raw, &r).ok() && IsCrud(r.op) &&
        (!InScopeOf(r.op, r.db, r.coll, o) || RawAnchorExcludes(*interest_, raw))) {
      position_ = ts;
      return Status::OK();
    }
  }
  // A filter (or an entry that is not a CRUD write): the event is a Document for the matcher.
  bson::Document own;
  if (decoded == nullptr) {
    EDDY_ASSIGN_OR_RETURN(own, DecodeEntry(raw));
    decoded = &own;
  }
  const bson::Document& entry = *decoded;
  // Most entries are not for this stream: decide that without building the event.
  if (!interest_->MayConcern(entry)) {
    position_ = ts;
    return Status::OK();
  }
  const bool ends = EndsStream(entry, o);
  // The entry's documents move into the event when the entry is ours (not a hub ring entry);
  // it keeps "wall" (BuildEvent).
  Result<std::optional<bson::Document>> built = decoded == &own
                                                    ? BuildEvent(std::move(own), o, engine_)
                                                    : BuildEvent(entry, o, engine_);
  EDDY_ASSIGN_OR_RETURN(std::optional<bson::Document> event, std::move(built));
  position_ = ts;
  if (event && interest_->matcher().Matches(*event)) {
    const size_t start = ready_bytes_.size();
    bson::EncodeTo(*event, &ready_bytes_);
    Ready(start);
  }
  if (ends) {
    ResumeToken t;
    t.cluster_time = ts;
    t.kind = ResumeToken::kInvalidate;
    bson::Document inv;
    inv.Append("_id", t.ToDocument());
    inv.Append("operationType", "invalidate");
    inv.Append("clusterTime", ts);
    inv.Append("wallTime", *entry.Get("wall"));
    // A $match may drop the invalidate; the stream ends either way (as mongod's does).
    if (interest_->matcher().Matches(inv)) {
      const size_t start = ready_bytes_.size();
      bson::EncodeTo(inv, &ready_bytes_);
      Ready(start);
    }
    invalidated_ = true;
  }
  return Status::OK();
}

Status ChangeStream::Fill() {
  if (ready_empty()) {
    ready_bytes_.clear();
    ready_.clear();
    ready_head_ = 0;
  }
  if (pending_invalidate_) {
    const size_t start = ready_bytes_.size();
    bson::EncodeTo(*pending_invalidate_, &ready_bytes_);
    Ready(start);
    pending_invalidate_.reset();
    invalidated_ = true;
    return Status::OK();
  }
  if (invalidated_) return Status::OK();
  {
    // The hub checked these entries for us while we waited: nothing in them concerns us.
    std::lock_guard lock(skip_->mu);
    if (skip_->from == position_.AsUint64() && skip_->to > skip_->from) {
      position_ = bson::Timestamp::FromUint64(skip_->to);
    }
    skip_->from = skip_->to = 0;
  }
  const size_t batch = interest_->options().batch_entries;
  if (hub_) {
    std::vector<TailEntryPtr> ring;
    if (hub_->Read(position_, batch, &ring)) {
      const bool filtered = !interest_->matches_everything();
      const WatchOptions& o = interest_->options();
      for (const TailEntryPtr& e : ring) {
        // A filtered stream woken for one entry reads on through the rest of the ring, most of
        // which is for other streams: skip what the entry's names (read once by the tailer) or
        // its bytes at the filter's anchor rule out, before touching the decoded entry (100
        // streams filtering one region each: those checks were a sixth of the server's CPU).
        if (filtered && IsCrud(e->op) &&
            (!InScopeOf(e->op, e->db, e->coll, o) || RawAnchorExcludes(*interest_, *e))) {
          position_ = e->ts;
          continue;
        }
        // Unfiltered streams build events from the bytes; a filter needs the entry
        // (undecodable: Consume decodes it itself and reports why).
        EDDY_RETURN_IF_ERROR(Consume(e->ts, e->raw, filtered ? e->decoded() : nullptr));
        if (invalidated_) return Status::OK();
      }
      // Entries the tailer has not reached yet come from the engine below (or, on a thread
      // that must not wait for storage, from the ring once the tailer has them).
      if (ring.size() == batch || !(position_ < engine_->committed()) ||
          MemoryOnlyReads::active()) {
        log_reader_.Release();  // reading from memory now: pin no storage meanwhile
        return Status::OK();
      }
    }
  }
  // Straight from the engine's bytes. A batch stops after kMaxFillBytes of entries: the
  // events it makes are held until read.
  constexpr size_t kMaxFillBytes = 2 * 1024 * 1024;
  Status status;
  size_t bytes = 0;
  EDDY_RETURN_IF_ERROR(engine_
                           ->ScanChangeLog(
                               position_, batch,
                               [&](bson::Timestamp ts, std::string_view raw) {
                                 bytes += raw.size();
                                 status = Consume(ts, raw, nullptr);
                                 return status.ok() && !invalidated_ && bytes < kMaxFillBytes;
                               },
                               &log_reader_)
                           .status());
  return status;
}

void ChangeStream::SettleLastToken() const {
  if (!unsettled_last_) return;
  std::string_view event(ready_bytes_.data() + unsettled_last_->offset, unsettled_last_->size);
  last_token_data_.assign(EventTokenData(event));
  unsettled_last_.reset();
}

Result<bool> ChangeStream::TryNextEncoded(std::string* out) {
  std::vector<size_t> offsets;
  EDDY_ASSIGN_OR_RETURN(size_t n, NextEncodedBatch(std::chrono::steady_clock::time_point(), 1, 0,
                                                   out, &offsets));
  return n > 0;
}

Result<bool> ChangeStream::NextEncoded(std::chrono::steady_clock::time_point deadline,
                                       std::string* out) {
  std::vector<size_t> offsets;
  EDDY_ASSIGN_OR_RETURN(size_t n, NextEncodedBatch(deadline, 1, 0, out, &offsets));
  return n > 0;
}

Result<size_t> ChangeStream::NextEncodedBatch(std::chrono::steady_clock::time_point deadline,
                                              size_t max_events, size_t max_bytes,
                                              std::string* out, std::vector<size_t>* offsets) {
  const size_t base = out->size();
  size_t n = 0;
  for (;;) {
    if (max_events != 0 && n >= max_events) break;
    if (n > 0 && out->size() - base > max_bytes) break;
    if (ready_empty()) {
      SettleLastToken();  // Fill reuses ready_bytes_
      EDDY_RETURN_IF_ERROR(Fill());
    }
    if (ready_empty()) {
      if (n > 0 || invalidated()) break;
      // Memory only: what the ring lacks is the hub's to bring (the caller waits on it).
      if (MemoryOnlyReads::active()) break;
      if (!engine_->WaitForCommit(position_, deadline)) break;
      continue;
    }
    // The ready events are back to back in ready_bytes_: take as many as allowed at once.
    const size_t first = ready_head_;
    size_t k = first;
    size_t taken = out->size() - base;
    while (k < ready_.size() && (max_events == 0 || n < max_events) &&
           (n == 0 || taken <= max_bytes)) {
      offsets->push_back(base + taken);
      taken += ready_[k].size;
      ++k;
      ++n;
    }
    const size_t from = ready_[first].offset;
    const size_t to = ready_[k - 1].offset + ready_[k - 1].size;
    if (out->empty() && from == 0 && k == ready_.size() && out->capacity() >= to / 2) {
      // All of them into an empty buffer: trade buffers instead of copying (ready_bytes_
      // keeps the caller's capacity for the next Fill). The last token is taken now.
      last_token_data_.assign(EventTokenData(std::string_view(ready_bytes_).substr(
          ready_[k - 1].offset, ready_[k - 1].size)));
      unsettled_last_.reset();
      out->swap(ready_bytes_);
      ready_bytes_.clear();
      ready_.clear();
      ready_head_ = 0;
      continue;
    }
    out->append(ready_bytes_, from, to - from);
    unsettled_last_ = ready_[k - 1];
    ready_head_ = k;
  }
  position_seen_.store(position_.AsUint64(), std::memory_order_relaxed);
  return n;
}

Result<std::optional<bson::Document>> ChangeStream::TryNext() {
  std::string bytes;
  EDDY_ASSIGN_OR_RETURN(bool got, TryNextEncoded(&bytes));
  if (!got) return std::optional<bson::Document>();
  EDDY_ASSIGN_OR_RETURN(bson::Document e, DecodeEvent(bytes));
  return std::optional<bson::Document>(std::move(e));
}

Result<std::optional<bson::Document>> ChangeStream::Next(std::chrono::steady_clock::time_point deadline) {
  std::string bytes;
  EDDY_ASSIGN_OR_RETURN(bool got, NextEncoded(deadline, &bytes));
  if (!got) return std::optional<bson::Document>();
  EDDY_ASSIGN_OR_RETURN(bson::Document e, DecodeEvent(bytes));
  return std::optional<bson::Document>(std::move(e));
}

bson::Document ChangeStream::resume_token() const {
  SettleLastToken();
  if (!last_token_data_.empty()) {
    bson::Document last{{"_data", last_token_data_}};
    if (!ready_empty()) return last;
    // The last event returned is the last position scanned: its own token.
    Result<ResumeToken> t = ResumeToken::Parse(bson::Value(last));
    if (t.ok() && t->cluster_time == position_) return last;
  } else if (!ready_empty()) {
    return bson::Document();  // events are queued but none was returned yet (as before)
  }
  return ResumeToken::HighWaterMark(position_).ToDocument();
}

bool ChangeStream::ArmWake(std::chrono::steady_clock::time_point deadline,
                           std::function<void()> wake) {
  if (hub_ == nullptr || !ready_empty() || pending_invalidate_ || invalidated_) return false;
  CancelWake();
  std::shared_ptr<Skip> skip = skip_;
  uint64_t from = position_.AsUint64();
  wake_id_ = hub_->Await(interest_, position_, deadline,
                         [skip, from, wake = std::move(wake)](bson::Timestamp checked) {
                           {
                             std::lock_guard lock(skip->mu);
                             skip->from = from;
                             skip->to = checked.AsUint64();
                           }
                           wake();
                         });
  return wake_id_ != 0;
}

namespace {
thread_local bool t_memory_only = false;
}  // namespace

MemoryOnlyReads::MemoryOnlyReads() : before_(t_memory_only) { t_memory_only = true; }
MemoryOnlyReads::~MemoryOnlyReads() { t_memory_only = before_; }
bool MemoryOnlyReads::active() { return t_memory_only; }

bool ChangeStream::RingCoversPosition() const {
  if (hub_ == nullptr) return false;
  return hub_->Covers(bson::Timestamp::FromUint64(position_seen_.load(std::memory_order_relaxed)));
}

void ChangeStream::CancelWake() {
  if (wake_id_ != 0 && hub_ != nullptr) hub_->Cancel(wake_id_);
  wake_id_ = 0;
}

}  // namespace eddy::changestream
