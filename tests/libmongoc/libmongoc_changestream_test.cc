// Change streams through libmongoc (the C driver) against a real `eddy serve`: collection,
// database and deployment streams; every operation type; each fullDocument /
// fullDocumentBeforeChange mode; resumeAfter, startAfter and startAtOperationTime; $match on
// operationType, fullDocument.* and updateDescription.updatedFields.* (the seed article's
// inventorySync filter).
//
// Usage: libmongoc_changestream_test path/to/eddy. Prints "N passed, N failed"; exit 1 on failure.
#include <mongoc/mongoc.h>

#include <cstdio>
#include <string>

#include "mongoc_test_main.h"

using namespace eddy::testing;  // NOLINT: the shared helpers read as test vocabulary

namespace {

// Opens a stream and makes sure its cursor exists before the test writes.
mongoc_change_stream_t* Open(mongoc_change_stream_t* s) {
  const bson_t* doc;
  mongoc_change_stream_next(s, &doc);  // the initial aggregate (empty first batch)
  return s;
}

// The operation types of the next n events, comma separated ("" on timeout).
std::string Ops(mongoc_change_stream_t* s, int n, std::vector<BsonPtr>* events = nullptr) {
  std::string out, err;
  for (int i = 0; i < n; ++i) {
    BsonPtr e = NextEvent(s, 10, &err);
    if (!e) return out + "<" + err + ">";
    out += (out.empty() ? "" : ",") + GetString(e.get(), "operationType");
    if (events) events->push_back(std::move(e));
  }
  return out;
}

void Run(mongoc_client_t* client) {
  bson_error_t error;
  mongoc_database_t* db = mongoc_client_get_database(client, "mcs");
  mongoc_database_drop(db, &error);
  const BsonPtr await = J(R"({"maxAwaitTimeMS": 200})");

  // Every operation type on a collection stream, then the invalidate that ends it.
  {
    mongoc_collection_t* c = mongoc_database_create_collection(db, "orders", nullptr, &error);
    mongoc_change_stream_t* s = Open(mongoc_collection_watch(c, J("{}").get(), await.get()));
    mongoc_collection_insert_one(c, J(R"({"_id": 1, "status": "new"})").get(), nullptr, nullptr, &error);
    mongoc_collection_update_one(c, J(R"({"_id": 1})").get(), J(R"({"$set": {"status": "paid"}})").get(),
                                 nullptr, nullptr, &error);
    mongoc_collection_replace_one(c, J(R"({"_id": 1})").get(), J(R"({"status": "x"})").get(), nullptr,
                                  nullptr, &error);
    mongoc_collection_delete_one(c, J(R"({"_id": 1})").get(), nullptr, nullptr, &error);
    mongoc_collection_drop(c, &error);
    std::string ops = Ops(s, 6);
    Check("collection stream: insert,update,replace,delete,drop,invalidate",
          ops == "insert,update,replace,delete,drop,invalidate", ops);
    mongoc_change_stream_destroy(s);
    mongoc_collection_destroy(c);
  }

  // Database stream (with a rename) and deployment stream across databases.
  {
    mongoc_change_stream_t* ds = Open(mongoc_database_watch(db, J("{}").get(), await.get()));
    mongoc_change_stream_t* cs = Open(mongoc_client_watch(client, J("{}").get(), await.get()));
    mongoc_collection_t* a = mongoc_database_get_collection(db, "a");
    mongoc_collection_t* other = mongoc_client_get_collection(client, "mcs_other", "b");
    mongoc_collection_insert_one(a, J(R"({"_id": 1})").get(), nullptr, nullptr, &error);
    mongoc_collection_insert_one(other, J(R"({"_id": 1})").get(), nullptr, nullptr, &error);
    bool renamed = mongoc_collection_rename(a, "mcs", "a2", false, &error);
    std::vector<BsonPtr> events;
    std::string ops = Ops(ds, 2, &events);
    Check("database stream: insert, rename with its target", renamed && ops == "insert,rename" &&
          GetString(events[1].get(), "to.coll") == "a2", ops);
    events.clear();
    ops = Ops(cs, 3, &events);
    std::string dbs;
    for (const BsonPtr& e : events) dbs += GetString(e.get(), "ns.db") + ";";
    Check("deployment stream across databases", ops == "insert,insert,rename" && dbs == "mcs;mcs_other;mcs;",
          ops + " " + dbs);
    mongoc_change_stream_destroy(ds);
    mongoc_change_stream_destroy(cs);
    mongoc_collection_destroy(a);
    mongoc_collection_destroy(other);
  }

  // fullDocument / fullDocumentBeforeChange modes on a collection with pre- and post-images.
  mongoc_collection_t* inv = mongoc_database_create_collection(
      db, "inv", J(R"({"changeStreamPreAndPostImages": {"enabled": true}})").get(), &error);
  Check("create with changeStreamPreAndPostImages", inv != nullptr, ErrorString(error));
  if (!inv) return;
  mongoc_collection_insert_one(inv, J(R"({"_id": "sku-1", "available": 10, "reserved": 0})").get(), nullptr,
                               nullptr, &error);
  struct Mode {
    const char* opts;
    int64_t full;  // expected fullDocument.available (-1: absent)
    int64_t pre;   // expected fullDocumentBeforeChange.available (-1: absent)
  };
  int64_t available = 10;
  for (const Mode& m : {
           Mode{R"({"fullDocument": "updateLookup", "maxAwaitTimeMS": 200})", 1, -1},
           Mode{R"({"fullDocument": "whenAvailable", "fullDocumentBeforeChange": "whenAvailable", "maxAwaitTimeMS": 200})", 1, 1},
           Mode{R"({"fullDocument": "required", "fullDocumentBeforeChange": "required", "maxAwaitTimeMS": 200})", 1, 1},
           Mode{R"({"maxAwaitTimeMS": 200})", -1, -1},
       }) {
    mongoc_change_stream_t* s = Open(mongoc_collection_watch(inv, J("{}").get(), J(m.opts).get()));
    mongoc_collection_update_one(inv, J(R"({"_id": "sku-1"})").get(), J(R"({"$inc": {"available": -1}})").get(),
                                 nullptr, nullptr, &error);
    std::string err;
    BsonPtr e = NextEvent(s, 10, &err);
    bool ok = e && (m.full < 0 ? !Has(e.get(), "fullDocument")
                               : GetInt(e.get(), "fullDocument.available") == available - 1) &&
              (m.pre < 0 ? !Has(e.get(), "fullDocumentBeforeChange")
                         : GetInt(e.get(), "fullDocumentBeforeChange.available") == available);
    Check((std::string("fullDocument modes ") + m.opts).c_str(), ok, e ? ToJson(e.get()) : err);
    available--;
    mongoc_change_stream_destroy(s);
  }

  // The seed article's inventorySync filter and a fullDocument.* filter.
  {
    mongoc_change_stream_t* s = Open(mongoc_collection_watch(
        inv,
        J(R"({"pipeline": [{"$match": {"operationType": "update", "updateDescription.updatedFields.available": {"$exists": true}}}]})").get(),
        J(R"({"fullDocument": "updateLookup", "maxAwaitTimeMS": 200})").get()));
    mongoc_collection_t* orders = mongoc_database_get_collection(db, "orders");
    mongoc_change_stream_t* big = Open(mongoc_collection_watch(
        orders, J(R"({"pipeline": [{"$match": {"operationType": "insert", "fullDocument.total_amount": {"$gt": 1000}}}]})").get(),
        await.get()));
    mongoc_collection_update_one(inv, J(R"({"_id": "sku-1"})").get(), J(R"({"$set": {"name": "Keyboard"}})").get(),
                                 nullptr, nullptr, &error);
    mongoc_collection_update_one(inv, J(R"({"_id": "sku-1"})").get(),
                                 J(R"({"$inc": {"available": -2, "reserved": 2}})").get(), nullptr, nullptr, &error);
    mongoc_collection_insert_one(orders, J(R"({"_id": "o1", "total_amount": 50})").get(), nullptr, nullptr, &error);
    mongoc_collection_insert_one(orders, J(R"({"_id": "o2", "total_amount": 1500})").get(), nullptr, nullptr, &error);
    std::string err;
    BsonPtr e = NextEvent(s, 10, &err);
    Check("$match on updateDescription.updatedFields.available (inventorySync)",
          e && GetInt(e.get(), "updateDescription.updatedFields.available") == available - 2 &&
              GetString(e.get(), "fullDocument.name") == "Keyboard",
          e ? ToJson(e.get()) : err);
    e = NextEvent(big, 10, &err);
    Check("$match on fullDocument.total_amount", e && GetString(e.get(), "documentKey._id") == "o2",
          e ? ToJson(e.get()) : err);
    mongoc_change_stream_destroy(s);
    mongoc_change_stream_destroy(big);

    // Resume options.
    mongoc_change_stream_t* r = Open(mongoc_collection_watch(orders, J("{}").get(), await.get()));
    for (const char* id : {"r1", "r2", "r3"}) {
      bson_t d;
      bson_init(&d);
      BSON_APPEND_UTF8(&d, "_id", id);
      mongoc_collection_insert_one(orders, &d, nullptr, nullptr, &error);
      bson_destroy(&d);
    }
    std::vector<BsonPtr> events;
    Ops(r, 3, &events);
    mongoc_change_stream_destroy(r);
    if (events.size() == 3) {
      bson_iter_t it;
      uint32_t secs = 0, inc = 0;
      if (bson_iter_init_find(&it, events[0].get(), "clusterTime")) bson_iter_timestamp(&it, &secs, &inc);
      bson_iter_t tok;
      bson_iter_init_find(&tok, events[0].get(), "_id");
      uint32_t len;
      const uint8_t* data;
      bson_iter_document(&tok, &len, &data);
      bson_t token;
      bson_init_static(&token, data, len);
      for (const char* option : {"resumeAfter", "startAfter", "startAtOperationTime"}) {
        bson_t opts;
        bson_init(&opts);
        if (std::string(option) == "startAtOperationTime") {
          BSON_APPEND_TIMESTAMP(&opts, option, secs, inc);
        } else {
          BSON_APPEND_DOCUMENT(&opts, option, &token);
        }
        BSON_APPEND_INT32(&opts, "maxAwaitTimeMS", 200);
        mongoc_change_stream_t* s2 = mongoc_collection_watch(orders, J("{}").get(), &opts);
        bson_destroy(&opts);
        std::string want = std::string(option) == "startAtOperationTime" ? "r1,r2,r3" : "r2,r3";
        int n = want == "r1,r2,r3" ? 3 : 2;
        std::vector<BsonPtr> got;
        Ops(s2, n, &got);
        std::string ids;
        for (const BsonPtr& g : got) ids += (ids.empty() ? "" : ",") + GetString(g.get(), "documentKey._id");
        Check((std::string("resume with ") + option).c_str(), ids == want, ids);
        mongoc_change_stream_destroy(s2);
      }
    } else {
      Check("events to resume from", false);
    }
    mongoc_collection_destroy(orders);
  }
  mongoc_collection_destroy(inv);
  mongoc_database_destroy(db);
}

}  // namespace

int main(int argc, char** argv) {
  return RunLibmongocTest(argc, argv, {.label = "libmongoc change streams"}, Run);
}
