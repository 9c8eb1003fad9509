// eddy demo: the seed article's order/inventory workflow on the embedded engine, with a
// change stream watching inventory as orders reserve stock.
#include <chrono>
#include <cstdio>
#include <thread>

#include "bson/json.h"
#include "changestream/change_stream.h"
#include "query/exec/database.h"
#include "subcommands.h"

namespace eddy::tools {
namespace {

bson::Document J(std::string_view s) { return *bson::ParseJson(s); }

int RunDemo(const std::string& data) {
  storage::EngineOptions options;
  options.path = data;
  auto opened = query::Database::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "eddy demo: %s\n", opened.status().ToString().c_str());
    return 1;
  }
  query::Database& db = **opened;
  (void)db.DropDatabase("shop");
  std::printf("eddy demo: data in %s\n", data.c_str());

  changestream::WatchOptions watch{"shop", "inventory"};
  watch.filter = J("{operationType: 'update', 'updateDescription.updatedFields.available': {$exists: true}}");
  watch.full_document = changestream::FullDocument::kUpdateLookup;
  auto stream = changestream::ChangeStream::Open(&db.engine(), watch);
  if (!stream.ok()) {
    std::fprintf(stderr, "eddy demo: %s\n", stream.status().ToString().c_str());
    return 1;
  }

  db.Insert("shop", "inventory", {J("{_id: 'sku-1', product: 'Keyboard', available: 10, reserved: 0}"),
                                  J("{_id: 'sku-2', product: 'Mouse', available: 1, reserved: 0}")});
  (void)db.CreateIndex("shop", "orders", J("{status: 1, created_at: -1}"));
  db.Insert("shop", "orders", {J("{_id: 'o-1', status: 'pending', items: [{product_id: 'sku-1', quantity: 3}, "
                                 "{product_id: 'sku-2', quantity: 2}], total_amount: 149.5}")});

  auto orders = db.Find("shop", "orders", {J("{_id: 'o-1'}")});
  if (!orders.ok() || orders->empty()) {
    std::fprintf(stderr, "eddy demo: the order was not stored\n");
    return 1;
  }
  for (const bson::Value& item : orders->at(0).Get("items")->as_array()) {
    const bson::Document& it = item.as_document();
    bson::Document filter{{"_id", *it.Get("product_id")},
                          {"available", bson::Document{{"$gte", *it.Get("quantity")}}}};
    bson::Document update{
        {"$inc", bson::Document{{"available", -it.Get("quantity")->as_int32()},
                                {"reserved", it.Get("quantity")->as_int32()}}},
        {"$push", bson::Document{{"reservations", bson::Document{{"order_id", "o-1"},
                                                                  {"quantity", *it.Get("quantity")}}}}}};
    auto r = db.Update("shop", "inventory", {filter, update});
    std::printf("reserve %s x%d: %s\n", it.Get("product_id")->as_string().c_str(),
                it.Get("quantity")->as_int32(),
                r.ok() && r->modified == 1 ? "reserved" : "insufficient stock");
  }
  for (;;) {
    auto e = (*stream)->Next(std::chrono::steady_clock::now() + std::chrono::milliseconds(200));
    if (!e.ok() || !e->has_value()) break;
    std::printf("change event: %s\n", bson::ToJson(**e).c_str());
  }
  auto pending = db.Count("shop", "orders", J("{status: 'pending'}"));
  std::printf("pending orders: %lld\n", static_cast<long long>(pending.ok() ? *pending : -1));
  return 0;
}

}  // namespace

void RegisterDemo(CLI::App& app) {
  auto* cmd = app.add_subcommand("demo", "Run the order/inventory demo on the embedded engine");
  static std::string data = "./data";
  cmd->add_option("--data", data, "data directory")->capture_default_str();
  cmd->callback([] { std::exit(RunDemo(data)); });
}

}  // namespace eddy::tools
