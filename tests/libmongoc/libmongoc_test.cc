// The seed article's order/inventory workflow through libmongoc (the C driver, Debian
// libmongoc-dev) against a real `eddy serve`: insertMany, find with filters/sort/limit,
// updateOne with $inc/$push under a $gte filter, bulk write, deleteOne, countDocuments,
// $lookup + $group, a unique index and its 11000 violation, and a change stream with
// insert/update/delete events resumed from a saved resume token.
//
// Usage: libmongoc_test path/to/eddy. Prints "libmongoc: N passed, N failed"; exit 1 on failure.
#include <mongoc/mongoc.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "mongoc_test_main.h"

using namespace eddy::testing;  // NOLINT: the shared helpers read as test vocabulary

namespace {

void Run(mongoc_client_t* client) {
  bson_error_t error;
  mongoc_database_t* db = mongoc_client_get_database(client, "shop");
  mongoc_collection_t* inventory = mongoc_client_get_collection(client, "shop", "inventory");
  mongoc_collection_t* customers = mongoc_client_get_collection(client, "shop", "customers");
  mongoc_collection_t* orders = mongoc_client_get_collection(client, "shop", "orders");

  {
    bson_t reply;
    bool ok = mongoc_client_command_simple(client, "admin", J("{\"ping\": 1}").get(), nullptr,
                                           &reply, &error);
    Check("ping", ok && GetDouble(&reply, "ok") == 1, ErrorString(error));
    bson_destroy(&reply);
    ok = mongoc_client_command_simple(client, "admin", J("{\"hello\": 1}").get(), nullptr,
                                      &reply, &error);
    Check("hello: replica-set primary",
          ok && GetString(&reply, "setName") == "rs0" &&
              Has(&reply, "isWritablePrimary") && GetInt(&reply, "maxWireVersion") >= 21,
          ToJson(&reply));
    bson_destroy(&reply);
  }

  // insertMany.
  {
    std::vector<BsonPtr> docs;
    docs.push_back(J(R"({"_id": "sku-1", "product": "Keyboard", "available": 10, "reserved": 0, "reservations": []})"));
    docs.push_back(J(R"({"_id": "sku-2", "product": "Mouse", "available": 1, "reserved": 0, "reservations": []})"));
    docs.push_back(J(R"({"_id": "sku-3", "product": "Screen", "available": 5, "reserved": 0, "reservations": []})"));
    std::vector<const bson_t*> ptrs;
    for (auto& d : docs) ptrs.push_back(d.get());
    bson_t reply;
    bool ok = mongoc_collection_insert_many(inventory, ptrs.data(), ptrs.size(), nullptr, &reply,
                                            &error);
    Check("insert_many inventory", ok && GetInt(&reply, "insertedCount") == 3,
          ErrorString(error) + " " + ToJson(&reply));
    bson_destroy(&reply);

    docs.clear();
    docs.push_back(J(R"({"_id": "c-1", "name": "Ada", "tier": "gold"})"));
    docs.push_back(J(R"({"_id": "c-2", "name": "Bob", "tier": "silver"})"));
    ptrs.clear();
    for (auto& d : docs) ptrs.push_back(d.get());
    ok = mongoc_collection_insert_many(customers, ptrs.data(), ptrs.size(), nullptr, &reply,
                                       &error);
    Check("insert_many customers", ok && GetInt(&reply, "insertedCount") == 2, ErrorString(error));
    bson_destroy(&reply);

    // o-1..o-10: shipped when i % 3 == 0, else pending; customer c-1 for even i, c-2 for odd.
    docs.clear();
    for (int i = 1; i <= 10; ++i) {
      char json[512];
      std::snprintf(json, sizeof json,
                    R"({"_id": "o-%d", "customer_id": "c-%d", "status": "%s", "total_amount": %.1f, "items": [{"product_id": "sku-1", "quantity": %d}]})",
                    i, i % 2 + 1, i % 3 ? "pending" : "shipped", 50.0 * i, 1 + i % 2);
      docs.push_back(J(json));
    }
    ptrs.clear();
    for (auto& d : docs) ptrs.push_back(d.get());
    ok = mongoc_collection_insert_many(orders, ptrs.data(), ptrs.size(), nullptr, &reply, &error);
    Check("insert_many orders", ok && GetInt(&reply, "insertedCount") == 10, ErrorString(error));
    bson_destroy(&reply);
  }

  // find with a filter, projection, sort and limit.
  {
    std::string err;
    auto top = Drain(
        mongoc_collection_find_with_opts(
            orders, J(R"({"status": "pending", "total_amount": {"$gte": 100}})").get(),
            J(R"({"projection": {"total_amount": 1}, "sort": {"total_amount": -1}, "limit": 2})").get(),
            nullptr),
        &err);
    Check("find filter/sort/limit", err.empty() && Ids(top) == "o-10,o-8", err + " " + Ids(top));
    Check("find projection", top.size() == 2 && !Has(top[0].get(), "status") &&
                                 GetDouble(top[0].get(), "total_amount") == 500.0,
          top.empty() ? "" : ToJson(top[0].get()));
    auto one = Drain(mongoc_collection_find_with_opts(orders, J(R"({"_id": "o-3"})").get(),
                                                      nullptr, nullptr),
                     &err);
    Check("find one", err.empty() && one.size() == 1 && GetString(one[0].get(), "status") == "shipped",
          err);
    // A small batch size forces getMore round trips.
    auto all = Drain(mongoc_collection_find_with_opts(orders, J("{}").get(),
                                                      J(R"({"batchSize": 3, "sort": {"_id": 1}})").get(),
                                                      nullptr),
                     &err);
    Check("find batchSize 3 + getMore", err.empty() && all.size() == 10 &&
                                            GetString(all[0].get(), "_id") == "o-1" &&
                                            GetString(all[1].get(), "_id") == "o-10",
          err + " " + Ids(all));
    auto bad = Drain(mongoc_collection_find_with_opts(orders, J(R"({"status": {"$bogus": 1}})").get(),
                                                      nullptr, nullptr),
                     &err);
    Check("find with an unknown operator fails with BadValue (2)",
          bad.empty() && err.find("code 2:") != std::string::npos &&
              err.find("$bogus") != std::string::npos,
          err);
  }

  // updateOne with $inc/$push under a $gte filter: reserve inventory.
  auto reserve = [&](const char* sku, int qty, const char* order, int64_t* modified) {
    char filter[256], update[512];
    std::snprintf(filter, sizeof filter, R"({"_id": "%s", "available": {"$gte": %d}})", sku, qty);
    std::snprintf(update, sizeof update,
                  R"({"$inc": {"available": %d, "reserved": %d}, "$push": {"reservations": {"order_id": "%s", "quantity": %d}}})",
                  -qty, qty, order, qty);
    bson_t reply;
    bool ok = mongoc_collection_update_one(inventory, J(filter).get(), J(update).get(), nullptr,
                                           &reply, &error);
    *modified = GetInt(&reply, "modifiedCount");
    bson_destroy(&reply);
    return ok;
  };
  {
    int64_t modified = -1;
    bool ok = reserve("sku-1", 3, "o-1", &modified);
    Check("updateOne $inc/$push reserves", ok && modified == 1, ErrorString(error));
    ok = reserve("sku-2", 2, "o-1", &modified);
    Check("updateOne $gte filter refuses over-reservation", ok && modified == 0, ErrorString(error));
    std::string err;
    auto inv = Drain(mongoc_collection_find_with_opts(inventory, J(R"({"_id": "sku-1"})").get(),
                                                      nullptr, nullptr),
                     &err);
    Check("reservation state", inv.size() == 1 && GetInt(inv[0].get(), "available") == 7 &&
                                   GetInt(inv[0].get(), "reserved") == 3 &&
                                   GetString(inv[0].get(), "reservations.0.order_id") == "o-1" &&
                                   GetInt(inv[0].get(), "reservations.0.quantity") == 3 &&
                                   !Has(inv[0].get(), "reservations.1"),
          inv.empty() ? err : ToJson(inv[0].get()));
    auto sku2 = Drain(mongoc_collection_find_with_opts(inventory, J(R"({"_id": "sku-2"})").get(),
                                                       nullptr, nullptr),
                      &err);
    Check("refused reservation left the document alone",
          sku2.size() == 1 && GetInt(sku2[0].get(), "available") == 1 &&
              GetInt(sku2[0].get(), "reserved") == 0,
          sku2.empty() ? err : ToJson(sku2[0].get()));
  }

  // Bulk write: insert, update, upsert, delete in one ordered bulk.
  {
    mongoc_bulk_operation_t* bulk = mongoc_collection_create_bulk_operation_with_opts(orders, nullptr);
    mongoc_bulk_operation_insert_with_opts(
        bulk, J(R"({"_id": "o-11", "customer_id": "c-1", "status": "pending", "total_amount": 5.0, "items": []})").get(),
        nullptr, &error);
    mongoc_bulk_operation_update_one_with_opts(bulk, J(R"({"_id": "o-2"})").get(),
                                               J(R"({"$set": {"status": "paid"}})").get(), nullptr,
                                               &error);
    mongoc_bulk_operation_update_one_with_opts(bulk, J(R"({"_id": "o-99"})").get(),
                                               J(R"({"$set": {"status": "new"}})").get(),
                                               J(R"({"upsert": true})").get(), &error);
    mongoc_bulk_operation_remove_one_with_opts(bulk, J(R"({"_id": "o-11"})").get(), nullptr,
                                               &error);
    bson_t reply;
    uint32_t server = mongoc_bulk_operation_execute(bulk, &reply, &error);
    Check("bulk write", server != 0 && GetInt(&reply, "nInserted") == 1 &&
                            GetInt(&reply, "nMatched") == 1 && GetInt(&reply, "nModified") == 1 &&
                            GetInt(&reply, "nUpserted") == 1 && GetInt(&reply, "nRemoved") == 1 &&
                            GetString(&reply, "upserted.0._id") == "o-99" &&
                            GetInt(&reply, "upserted.0.index") == 2,
          ErrorString(error) + " " + ToJson(&reply));
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);

    // An unordered bulk with a duplicate _id reports the write error and still applies the rest.
    bulk = mongoc_collection_create_bulk_operation_with_opts(orders, J(R"({"ordered": false})").get());
    mongoc_bulk_operation_insert_with_opts(bulk, J(R"({"_id": "o-1"})").get(), nullptr, &error);
    mongoc_bulk_operation_insert_with_opts(bulk, J(R"({"_id": "o-12", "status": "draft"})").get(),
                                           nullptr, &error);
    server = mongoc_bulk_operation_execute(bulk, &reply, &error);
    Check("unordered bulk with a duplicate _id", server == 0 && error.code == 11000 &&
                                                     GetInt(&reply, "nInserted") == 1 &&
                                                     GetInt(&reply, "writeErrors.0.index") == 0 &&
                                                     GetInt(&reply, "writeErrors.0.code") == 11000,
          ErrorString(error) + " " + ToJson(&reply));
    bson_destroy(&reply);
    mongoc_bulk_operation_destroy(bulk);
  }

  // deleteOne, countDocuments, estimatedDocumentCount, distinct.
  {
    bson_t reply;
    bool ok = mongoc_collection_delete_one(orders, J(R"({"_id": "o-99"})").get(), nullptr, &reply,
                                           &error);
    Check("deleteOne", ok && GetInt(&reply, "deletedCount") == 1, ErrorString(error));
    bson_destroy(&reply);
    ok = mongoc_collection_delete_one(orders, J(R"({"_id": "o-12"})").get(), nullptr, &reply,
                                      &error);
    Check("deleteOne o-12", ok && GetInt(&reply, "deletedCount") == 1, ErrorString(error));
    bson_destroy(&reply);
    ok = mongoc_collection_delete_one(orders, J(R"({"_id": "nope"})").get(), nullptr, &reply,
                                      &error);
    Check("deleteOne of nothing", ok && GetInt(&reply, "deletedCount") == 0, ErrorString(error));
    bson_destroy(&reply);

    int64_t n = mongoc_collection_count_documents(orders, J(R"({"status": "pending"})").get(),
                                                  nullptr, nullptr, nullptr, &error);
    Check("countDocuments pending", n == 6, std::to_string(n) + " " + ErrorString(error));
    n = mongoc_collection_count_documents(orders, J("{}").get(),
                                          J(R"({"skip": 2, "limit": 5})").get(), nullptr, nullptr,
                                          &error);
    Check("countDocuments skip/limit", n == 5, std::to_string(n) + " " + ErrorString(error));
    n = mongoc_collection_estimated_document_count(orders, nullptr, nullptr, nullptr, &error);
    Check("estimatedDocumentCount", n == 10, std::to_string(n) + " " + ErrorString(error));

    ok = mongoc_collection_read_command_with_opts(
        orders, J(R"({"distinct": "orders", "key": "customer_id"})").get(), nullptr, nullptr,
        &reply, &error);
    Check("distinct", ok && GetString(&reply, "values.0") == "c-1" &&
                          GetString(&reply, "values.1") == "c-2" && !Has(&reply, "values.2"),
          ErrorString(error) + " " + ToJson(&reply));
    bson_destroy(&reply);
  }

  // Aggregation with $lookup and $group: orders per customer tier.
  {
    auto pipeline = J(R"({"pipeline": [
        {"$match": {"status": {"$in": ["pending", "paid"]}}},
        {"$lookup": {"from": "customers", "localField": "customer_id", "foreignField": "_id", "as": "customer"}},
        {"$unwind": "$customer"},
        {"$group": {"_id": "$customer.tier", "orders": {"$sum": 1}, "revenue": {"$sum": "$total_amount"}}},
        {"$sort": {"_id": 1}}]})");
    std::string err;
    auto groups = Drain(mongoc_collection_aggregate(orders, MONGOC_QUERY_NONE, pipeline.get(),
                                                    nullptr, nullptr),
                        &err);
    Check("aggregate $lookup + $group",
          err.empty() && groups.size() == 2 && GetString(groups[0].get(), "_id") == "gold" &&
              GetInt(groups[0].get(), "orders") == 4 &&
              GetDouble(groups[0].get(), "revenue") == 1200.0 &&
              GetString(groups[1].get(), "_id") == "silver" &&
              GetInt(groups[1].get(), "orders") == 3 &&
              GetDouble(groups[1].get(), "revenue") == 650.0,
          err + (groups.empty() ? "" : " " + ToJson(groups[0].get())));
  }

  // createIndex (unique) and the duplicate-key error 11000.
  {
    bson_t reply;
    bool ok = mongoc_database_write_command_with_opts(
        db, J(R"({"createIndexes": "customers", "indexes": [{"key": {"name": 1}, "name": "name_1", "unique": true}]})").get(),
        nullptr, &reply, &error);
    Check("createIndexes unique", ok && GetDouble(&reply, "ok") == 1, ErrorString(error));
    bson_destroy(&reply);
    ok = mongoc_collection_insert_one(customers, J(R"({"_id": "c-3", "name": "Ada"})").get(),
                                      nullptr, &reply, &error);
    Check("unique violation is 11000", !ok && error.code == 11000 &&
                                           std::string(error.message).find("name_1") != std::string::npos,
          ErrorString(error));
    bson_destroy(&reply);
    ok = mongoc_collection_insert_one(customers, J(R"({"_id": "c-3", "name": "Cy", "tier": "gold"})").get(),
                                      nullptr, &reply, &error);
    Check("a distinct name still inserts", ok, ErrorString(error));
    bson_destroy(&reply);
    // Building a unique index over existing duplicates fails the same way.
    ok = mongoc_database_write_command_with_opts(
        db, J(R"({"createIndexes": "orders", "indexes": [{"key": {"customer_id": 1}, "name": "cust_1", "unique": true}]})").get(),
        nullptr, &reply, &error);
    Check("unique index over duplicates is 11000", !ok && error.code == 11000,
          ErrorString(error) + " " + ToJson(&reply));
    bson_destroy(&reply);
    std::string err;
    auto indexes = Drain(mongoc_collection_find_indexes_with_opts(customers, nullptr), &err);
    bool found = false;
    for (auto& ix : indexes) {
      found = found || (GetString(ix.get(), "name") == "name_1" && Has(ix.get(), "unique"));
    }
    Check("listIndexes shows the unique index", err.empty() && indexes.size() == 2 && found, err);
  }

  // findAndModify and an unknown command.
  {
    mongoc_find_and_modify_opts_t* fam = mongoc_find_and_modify_opts_new();
    mongoc_find_and_modify_opts_set_update(fam, J(R"({"$set": {"status": "shipped"}})").get());
    mongoc_find_and_modify_opts_set_flags(fam, MONGOC_FIND_AND_MODIFY_RETURN_NEW);
    bson_t reply;
    bool ok = mongoc_collection_find_and_modify_with_opts(orders, J(R"({"_id": "o-4"})").get(),
                                                          fam, &reply, &error);
    Check("findAndModify returns the new document",
          ok && GetString(&reply, "value.status") == "shipped", ErrorString(error));
    bson_destroy(&reply);
    mongoc_find_and_modify_opts_destroy(fam);

    ok = mongoc_client_command_simple(client, "shop", J(R"({"frobnicate": 1})").get(), nullptr,
                                      &reply, &error);
    Check("unknown command is 59 CommandNotFound",
          !ok && error.code == 59 && GetString(&reply, "codeName") == "CommandNotFound" &&
              std::string(error.message).find("frobnicate") != std::string::npos,
          ErrorString(error));
    bson_destroy(&reply);
  }

  // Change stream: insert, update, delete events; close; resume after the first event's token.
  {
    mongoc_change_stream_t* stream = mongoc_collection_watch(
        orders, J("{}").get(), J(R"({"fullDocument": "updateLookup", "maxAwaitTimeMS": 200})").get());
    bson_t reply;
    mongoc_collection_insert_one(orders, J(R"({"_id": "o-20", "status": "pending", "total_amount": 1200.0})").get(),
                                 nullptr, nullptr, &error);
    mongoc_collection_update_one(orders, J(R"({"_id": "o-20"})").get(),
                                 J(R"({"$set": {"status": "shipped"}, "$inc": {"total_amount": 1}})").get(),
                                 nullptr, nullptr, &error);
    mongoc_collection_delete_one(orders, J(R"({"_id": "o-20"})").get(), nullptr, &reply, &error);
    bson_destroy(&reply);

    std::string err;
    BsonPtr e1 = NextEvent(stream, 10, &err);
    Check("watch: insert event",
          e1 && GetString(e1.get(), "operationType") == "insert" &&
              GetString(e1.get(), "documentKey._id") == "o-20" &&
              GetString(e1.get(), "fullDocument.status") == "pending" &&
              GetString(e1.get(), "ns.db") == "shop" && GetString(e1.get(), "ns.coll") == "orders" &&
              Has(e1.get(), "_id._data") && Has(e1.get(), "clusterTime"),
          e1 ? ToJson(e1.get()) : err);
    // The token after the insert event: resuming from it must replay update and delete.
    BsonPtr token(e1 ? bson_copy(mongoc_change_stream_get_resume_token(stream)) : nullptr);
    BsonPtr e2 = NextEvent(stream, 10, &err);
    Check("watch: update event",
          e2 && GetString(e2.get(), "operationType") == "update" &&
              GetString(e2.get(), "updateDescription.updatedFields.status") == "shipped" &&
              GetDouble(e2.get(), "updateDescription.updatedFields.total_amount") == 1201.0 &&
              Has(e2.get(), "updateDescription.removedFields"),
          e2 ? ToJson(e2.get()) : err);
    BsonPtr e3 = NextEvent(stream, 10, &err);
    Check("watch: delete event", e3 && GetString(e3.get(), "operationType") == "delete" &&
                                     GetString(e3.get(), "documentKey._id") == "o-20" &&
                                     !Has(e3.get(), "fullDocument"),
          e3 ? ToJson(e3.get()) : err);
    mongoc_change_stream_destroy(stream);

    // While no stream is open: one more order.
    mongoc_collection_insert_one(orders, J(R"({"_id": "o-21", "status": "pending"})").get(),
                                 nullptr, nullptr, &error);
    if (token) {
      bson_t opts;
      bson_init(&opts);
      BSON_APPEND_DOCUMENT(&opts, "resumeAfter", token.get());
      BSON_APPEND_INT32(&opts, "maxAwaitTimeMS", 200);
      mongoc_change_stream_t* resumed = mongoc_collection_watch(orders, J("{}").get(), &opts);
      bson_destroy(&opts);
      BsonPtr r1 = NextEvent(resumed, 10, &err);
      BsonPtr r2 = r1 ? NextEvent(resumed, 10, &err) : nullptr;
      BsonPtr r3 = r2 ? NextEvent(resumed, 10, &err) : nullptr;
      Check("resumeAfter replays update, delete, then the insert made while closed",
            r1 && r2 && r3 && GetString(r1.get(), "operationType") == "update" &&
                GetString(r2.get(), "operationType") == "delete" &&
                GetString(r3.get(), "operationType") == "insert" &&
                GetString(r3.get(), "documentKey._id") == "o-21" &&
                GetString(r1.get(), "_id._data") == GetString(e2.get(), "_id._data"),
            err + (r1 ? " " + ToJson(r1.get()) : ""));
      mongoc_change_stream_destroy(resumed);
    } else {
      Check("resume token available", false);
    }

    // A pipeline filter: only updates whose status became "delivered".
    mongoc_change_stream_t* filtered = mongoc_collection_watch(
        orders,
        J(R"({"pipeline": [{"$match": {"operationType": "update", "updateDescription.updatedFields.status": "delivered"}}]})").get(),
        J(R"({"maxAwaitTimeMS": 200})").get());
    mongoc_collection_update_one(orders, J(R"({"_id": "o-21"})").get(),
                                 J(R"({"$set": {"status": "paid"}})").get(), nullptr, nullptr, &error);
    mongoc_collection_update_one(orders, J(R"({"_id": "o-21"})").get(),
                                 J(R"({"$set": {"status": "delivered"}})").get(), nullptr, nullptr,
                                 &error);
    BsonPtr f1 = NextEvent(filtered, 10, &err);
    Check("watch with a $match pipeline",
          f1 && GetString(f1.get(), "updateDescription.updatedFields.status") == "delivered",
          f1 ? ToJson(f1.get()) : err);
    mongoc_change_stream_destroy(filtered);

    // A resume token that was never issued is an error, not a hang.
    mongoc_change_stream_t* bogus = mongoc_collection_watch(
        orders, J("{}").get(), J(R"({"resumeAfter": {"_data": "zz"}})").get());
    const bson_t* doc;
    bool got = mongoc_change_stream_next(bogus, &doc);
    const bson_t* err_doc = nullptr;
    bool failed = mongoc_change_stream_error_document(bogus, &error, &err_doc);
    Check("malformed resume token is an error", !got && failed && error.code != 0,
          ErrorString(error));
    mongoc_change_stream_destroy(bogus);
  }

  // Many documents through getMore; a cursor destroyed early is killed (killCursors).
  {
    mongoc_collection_t* big = mongoc_client_get_collection(client, "shop", "events");
    std::vector<BsonPtr> docs;
    std::vector<const bson_t*> ptrs;
    for (int i = 0; i < 2500; ++i) {
      char json[128];
      std::snprintf(json, sizeof json, R"({"_id": %d, "pad": "%064d"})", i, i);
      docs.push_back(J(json));
      ptrs.push_back(docs.back().get());
    }
    bool ok = mongoc_collection_insert_many(big, ptrs.data(), ptrs.size(), nullptr, nullptr, &error);
    Check("insert_many 2500", ok, ErrorString(error));
    std::string err;
    auto all = Drain(mongoc_collection_find_with_opts(big, J("{}").get(),
                                                      J(R"({"batchSize": 100, "sort": {"_id": 1}})").get(),
                                                      nullptr),
                     &err);
    bool ordered = all.size() == 2500;
    for (size_t i = 0; ordered && i < all.size(); ++i) ordered = GetInt(all[i].get(), "_id") == int64_t(i);
    Check("find 2500 in batches of 100", err.empty() && ordered, err + " " + std::to_string(all.size()));
    mongoc_cursor_t* partial = mongoc_collection_find_with_opts(
        big, J("{}").get(), J(R"({"batchSize": 10})").get(), nullptr);
    const bson_t* doc;
    int n = 0;
    while (n < 15 && mongoc_cursor_next(partial, &doc)) ++n;
    Check("partial read", n == 15);
    mongoc_cursor_destroy(partial);  // sends killCursors
    int64_t count = mongoc_collection_count_documents(big, J("{}").get(), nullptr, nullptr,
                                                      nullptr, &error);
    Check("count after killCursors", count == 2500, ErrorString(error));
    mongoc_collection_destroy(big);
  }

  // listCollections and drop.
  {
    char** names = mongoc_database_get_collection_names_with_opts(db, nullptr, &error);
    std::string all;
    for (char** p = names; p && *p; ++p) all += std::string(all.empty() ? "" : ",") + *p;
    bson_strfreev(names);
    Check("listCollections", all.find("orders") != std::string::npos &&
                                 all.find("customers") != std::string::npos &&
                                 all.find("inventory") != std::string::npos,
          all);
    bool ok = mongoc_collection_drop(customers, &error);
    Check("drop collection", ok, ErrorString(error));
    int64_t n = mongoc_collection_count_documents(customers, J("{}").get(), nullptr, nullptr,
                                                  nullptr, &error);
    Check("dropped collection is empty", n == 0, ErrorString(error));
  }

  mongoc_collection_destroy(orders);
  mongoc_collection_destroy(customers);
  mongoc_collection_destroy(inventory);
  mongoc_database_destroy(db);
}

}  // namespace

int main(int argc, char** argv) {
  return RunLibmongocTest(argc, argv,
                          {.label = "libmongoc", .app_name = "eddy-libmongoc-test", .check_clean_exit = true},
                          Run);
}
