#include "changestream/change_stream.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <thread>

#include "bson/codec.h"
#include "bson/json.h"
#include "changestream/hub.h"
#include "changestream/resume_token.h"
#include "changestream/tests/test_database.h"

namespace eddy::changestream {
namespace {

using namespace std::chrono_literals;

class ChangeStreamTest : public DatabaseTest {
 protected:
  std::unique_ptr<ChangeStream> Watch(WatchOptions o) {
    auto cs = ChangeStream::Open(&db_->engine(), std::move(o));
    EXPECT_TRUE(cs.ok()) << cs.status().ToString();
    return std::move(cs).value();
  }
  // "op key" lines of every event available now.
  std::string Drain(ChangeStream& cs) {
    std::string out;
    for (;;) {
      auto e = cs.TryNext();
      EXPECT_TRUE(e.ok());
      if (!e.ok() || !e->has_value()) return out;
      const bson::Document& ev = **e;
      out += ev.Get("operationType")->as_string();
      if (const bson::Value* dk = ev.Get("documentKey")) out += " " + bson::ToJson(*dk, bson::JsonMode::kShell);
      if (const bson::Value* ud = ev.Get("updateDescription")) {
        out += " " + bson::ToJson(ud->as_document().Get("updatedFields")->as_document(), bson::JsonMode::kShell);
      }
      if (const bson::Value* fd = ev.Get("fullDocument")) out += " full=" + bson::ToJson(*fd, bson::JsonMode::kShell);
      out += "\n";
    }
  }
};

TEST_F(ChangeStreamTest, EventsInCommitOrderWithShapes) {
  auto cs = Watch(WatchOptions{"shop", "orders"});
  ASSERT_TRUE(db_->Insert("shop", "orders", {J("{_id: 1, status: 'new'}")}).errors.empty());
  ASSERT_TRUE(db_->Insert("shop", "other", {J("{_id: 1}")}).errors.empty());
  ASSERT_TRUE(db_->Update("shop", "orders", {J("{_id: 1}"), J("{$set: {status: 'paid'}}")}).ok());
  ASSERT_TRUE(db_->Update("shop", "orders", {J("{_id: 1}"), J("{status: 'x'}")}).ok());
  ASSERT_TRUE(db_->Delete("shop", "orders", J("{_id: 1}"), 1).ok());
  EXPECT_EQ(Drain(*cs),
            "insert {_id: 1} full={_id: 1, status: \"new\"}\n"
            "update {_id: 1} {status: \"paid\"}\n"
            "replace {_id: 1} full={_id: 1, status: \"x\"}\n"
            "delete {_id: 1}\n");
  ASSERT_TRUE(db_->DropCollection("shop", "orders").ok());
  EXPECT_EQ(Drain(*cs), "drop\ninvalidate\n");
}

TEST_F(ChangeStreamTest, FilterUpdateLookupAndResume) {
  WatchOptions o{"shop", "inventory"};
  o.filter = J("{operationType: 'update', 'updateDescription.updatedFields.available': {$exists: true}}");
  o.full_document = FullDocument::kUpdateLookup;
  auto cs = Watch(o);
  ASSERT_TRUE(db_->Insert("shop", "inventory", {J("{_id: 's1', available: 5, name: 'k'}")}).errors.empty());
  ASSERT_TRUE(db_->Update("shop", "inventory", {J("{_id: 's1'}"), J("{$set: {name: 'kb'}}")}).ok());
  ASSERT_TRUE(db_->Update("shop", "inventory", {J("{_id: 's1'}"), J("{$inc: {available: -2}}")}).ok());
  EXPECT_EQ(Drain(*cs), "update {_id: \"s1\"} {available: 3} full={_id: \"s1\", available: 3, name: \"kb\"}\n");
  bson::Document token = cs->resume_token();
  ASSERT_TRUE(db_->Update("shop", "inventory", {J("{_id: 's1'}"), J("{$inc: {available: 1}}")}).ok());
  // A new stream resuming after the token sees exactly the later event.
  o.resume_after = token;
  auto resumed = Watch(o);
  EXPECT_EQ(Drain(*resumed), "update {_id: \"s1\"} {available: 4} full={_id: \"s1\", available: 4, name: \"kb\"}\n");
}

// A filtered stream reading the change log skips entries whose bytes show that the filter's
// equality cannot hold, without decoding them. Only certain misses are skipped: a number of
// another type that compares equal, an array holding the value, a nested path, a missing
// field matched by null, and operationType anchors all still match as MongoDB matches.
TEST_F(ChangeStreamTest, FilteredStreamsSkipByTheEntryBytesOnlyWhatCannotMatch) {
  WatchOptions by_number{"shop", "orders"};
  by_number.filter = J("{'fullDocument.n': 1}");
  WatchOptions by_region{"shop", "orders"};
  by_region.filter = J("{'fullDocument.at.region': {$in: ['r07', 'r09']}}");
  WatchOptions by_null{"shop", "orders"};
  by_null.filter = J("{'fullDocument.n': null, operationType: 'insert'}");
  WatchOptions by_op{"shop", "orders"};
  by_op.filter = J("{operationType: 'delete'}");
  auto numbers = Watch(by_number);
  auto regions = Watch(by_region);
  auto nulls = Watch(by_null);
  auto deletes = Watch(by_op);
  ASSERT_TRUE(db_->Insert("shop", "orders",
                          {J("{_id: 1, n: 1, at: {region: 'r07'}}"), J("{_id: 2, n: 1.0, at: {region: 'r08'}}"),
                           J("{_id: 3, n: NumberLong(1), at: {region: ['r01', 'r09']}}"),
                           J("{_id: 4, n: 2, at: 'r07'}"), J("{_id: 5, n: [3, 1]}"), J("{_id: 6, n: '1'}"),
                           J("{_id: 7}")})
                  .errors.empty());
  ASSERT_TRUE(db_->Insert("shop", "other", {J("{_id: 8, n: 1, at: {region: 'r07'}}")}).errors.empty());
  ASSERT_TRUE(db_->Delete("shop", "orders", J("{_id: 4}"), 1).ok());
  auto ids = [&](ChangeStream& cs) {
    std::string out;
    for (;;) {
      auto e = cs.TryNext();
      EXPECT_TRUE(e.ok());
      if (!e.ok() || !e->has_value()) return out;
      out += bson::ToJson(*(**e).Get("documentKey")->as_document().Get("_id"), bson::JsonMode::kShell) + " ";
    }
  };
  EXPECT_EQ(ids(*numbers), "1 2 3 5 ");
  EXPECT_EQ(ids(*regions), "1 3 ");
  EXPECT_EQ(ids(*nulls), "7 ");
  EXPECT_EQ(ids(*deletes), "4 ");
}

TEST_F(ChangeStreamTest, StartAtOperationTimeAndBlockingNext) {
  ASSERT_TRUE(db_->Insert("shop", "c", {J("{_id: 1}")}).errors.empty());
  bson::Timestamp t = db_->engine().committed();
  ASSERT_TRUE(db_->Insert("shop", "c", {J("{_id: 2}")}).errors.empty());
  WatchOptions o{"shop", "c"};
  o.start_at_operation_time = t;  // inclusive
  auto cs = Watch(o);
  EXPECT_EQ(Drain(*cs), "insert {_id: 1} full={_id: 1}\ninsert {_id: 2} full={_id: 2}\n");
  std::thread writer([&] {
    std::this_thread::sleep_for(30ms);
    ASSERT_TRUE(db_->Insert("shop", "c", {J("{_id: 3}")}).errors.empty());
  });
  auto e = cs->Next(std::chrono::steady_clock::now() + 10s);
  writer.join();
  ASSERT_TRUE(e.ok());
  ASSERT_TRUE(e->has_value());
  EXPECT_EQ(bson::ToJson(*(*e)->Get("documentKey"), bson::JsonMode::kShell), "{_id: 3}");
  auto none = cs->Next(std::chrono::steady_clock::now() + 20ms);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_F(ChangeStreamTest, BadTokensAndFiltersAreClearErrors) {
  WatchOptions o{"shop", "c"};
  o.resume_after = J("{_data: 'zz'}");
  auto bad = ChangeStream::Open(&db_->engine(), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kBadValue);
  o.resume_after.reset();
  o.filter = J("{operationType: {$nope: 1}}");
  EXPECT_EQ(ChangeStream::Open(&db_->engine(), o).status().code(), ErrorCode::kBadValue);
  EXPECT_FALSE(ResumeToken::Parse(bson::Value("x")).ok());
  ResumeToken t;
  t.cluster_time = bson::Timestamp{5, 6};
  t.fragment = 3;
  t.document_key = "k";
  auto back = ResumeToken::Parse(bson::Value(t.ToDocument()));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->cluster_time, (bson::Timestamp{5, 6}));
  EXPECT_EQ(back->kind, ResumeToken::kEvent);
  EXPECT_EQ(back->fragment, 3);
  EXPECT_EQ(back->document_key, "k");
  // Tokens sort like positions: a high-water mark before the event at the same time.
  std::string hwm = ResumeToken::HighWaterMark({5, 6}).ToDocument().Get("_data")->as_string();
  EXPECT_LT(hwm, t.ToDocument().Get("_data")->as_string());
  // Version 1 tokens (session 1 format) still parse.
  auto v1 = ResumeToken::Parse(bson::Value(J("{_data: '010000000500000006'}")));
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ(v1->kind, ResumeToken::kHighWaterMark);
}

TEST_F(ChangeStreamTest, DisambiguatedPathsOnlyWithExpandedEvents) {
  WatchOptions expanded{"shop", "c"};
  expanded.show_expanded_events = true;
  expanded.filter = J("{operationType: 'update'}");
  auto with = Watch(expanded);
  WatchOptions plain_options{"shop", "c"};
  plain_options.filter = J("{operationType: 'update'}");
  auto plain = Watch(plain_options);
  ASSERT_TRUE(db_->Insert("shop", "c", {J("{_id: 1, a: [{'1': 1}], m: {'7': 0}, s: 1}")}).errors.empty());
  ASSERT_TRUE(db_->Update("shop", "c", {J("{_id: 1}"), J("{$set: {'a.0.1': 2, 'm.7': 1, s: 2}}")}).ok());
  auto e = with->TryNext();
  ASSERT_TRUE(e.ok() && e->has_value());
  const bson::Document& ud = (**e).Get("updateDescription")->as_document();
  ASSERT_TRUE(ud.Has("disambiguatedPaths")) << bson::ToJson(ud);
  // Array indexes are ints, numeric field names strings; unambiguous paths are not listed.
  EXPECT_EQ(bson::ToJson(*ud.Get("disambiguatedPaths"), bson::JsonMode::kShell),
            "{\"a.0.1\": [\"a\", 0, \"1\"], \"m.7\": [\"m\", \"7\"]}");
  auto p = plain->TryNext();
  ASSERT_TRUE(p.ok() && p->has_value());
  EXPECT_FALSE((**p).Get("updateDescription")->as_document().Has("disambiguatedPaths"));
}

// The catch-up path moves the decoded entry's documents into the event; the shared-entry path
// copies them. Both give the same event for every kind of entry and every option set, and the
// moved-from entry keeps what the stream still reads (op, db, coll, ts, wall, to).
TEST_F(ChangeStreamTest, MovingBuildEventEqualsCopyingBuildEvent) {
  ASSERT_TRUE(db_->CreateCollection("shop", "c", J("{changeStreamPreAndPostImages: {enabled: true}}")).ok());
  ASSERT_TRUE(db_->Insert("shop", "c", {J("{_id: 1, a: [{'1': 1}], s: 'x'}"), J("{_id: 2}")}).errors.empty());
  ASSERT_TRUE(db_->Update("shop", "c", {J("{_id: 1}"), J("{$set: {'a.0.1': 2, s: 'y'}, $unset: {q: 1}}")}).ok());
  ASSERT_TRUE(db_->Update("shop", "c", {J("{_id: 2}"), J("{r: 1}")}).ok());
  ASSERT_TRUE(db_->Delete("shop", "c", J("{_id: 2}"), 1).ok());
  ASSERT_TRUE(db_->CreateIndex("shop", "c", J("{s: 1}")).ok());
  ASSERT_TRUE(db_->RenameCollection("shop", "c", "shop", "d").ok());
  ASSERT_TRUE(db_->DropCollection("shop", "d").ok());
  ASSERT_TRUE(db_->DropDatabase("shop").ok());
  auto entries = db_->engine().ReadChangeLog(bson::Timestamp(), 1000);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_GE(entries->size(), 9u);

  std::vector<WatchOptions> table(6, WatchOptions{"shop"});
  table[1].full_document = FullDocument::kUpdateLookup;
  table[2].full_document = FullDocument::kWhenAvailable;
  table[2].full_document_before_change = FullDocumentBeforeChange::kWhenAvailable;
  table[3].full_document = FullDocument::kRequired;
  table[3].full_document_before_change = FullDocumentBeforeChange::kRequired;
  table[4].show_expanded_events = true;
  table[5].db.clear();  // a deployment stream
  std::set<std::string> ops;
  bool saw_pre = false;
  for (size_t t = 0; t < table.size(); ++t) {
    for (const storage::ChangeLogEntry& raw : *entries) {
      auto shared = DecodeEntry(raw.raw);
      ASSERT_TRUE(shared.ok());
      auto own = DecodeEntry(raw.raw);
      ASSERT_TRUE(own.ok());
      std::string op = shared->Get("op")->as_string();
      ops.insert(op);
      saw_pre = saw_pre || shared->Has("pre");
      auto copied = BuildEvent(*shared, table[t], &db_->engine());
      auto moved = BuildEvent(std::move(*own), table[t], &db_->engine());
      SCOPED_TRACE("options " + std::to_string(t) + ", entry " + bson::ToJson(*shared));
      ASSERT_EQ(copied.ok(), moved.ok());
      if (!copied.ok()) {
        EXPECT_EQ(copied.status().ToString(), moved.status().ToString());
        continue;
      }
      ASSERT_EQ(copied->has_value(), moved->has_value());
      if (copied->has_value()) {
        EXPECT_EQ(bson::ToJson(**copied, bson::JsonMode::kCanonical),
                  bson::ToJson(**moved, bson::JsonMode::kCanonical));
      }
      for (const char* kept : {"op", "db", "coll", "ts", "wall", "to"}) {
        const bson::Value* before = shared->Get(kept);
        const bson::Value* after = own->Get(kept);
        ASSERT_EQ(before == nullptr, after == nullptr) << kept;
        if (before) {
          EXPECT_EQ(bson::ToJson(*before), bson::ToJson(*after)) << kept;
        }
      }
    }
  }
  // The table covered every kind of entry the writes above log.
  for (const char* op : {"insert", "update", "replace", "delete", "createIndexes", "rename",
                         "drop", "dropDatabase"}) {
    EXPECT_TRUE(ops.count(op)) << op;
  }
  EXPECT_TRUE(saw_pre);  // pre-images were logged and moved too
}

// Streams without a filter build CRUD events from the change-log entry's bytes. For every
// kind of entry and option set that gives exactly the bytes of BuildEvent's document (field
// order, types, disambiguatedPaths only with showExpandedEvents, updateLookup, images and
// their errors).
TEST_F(ChangeStreamTest, EncodedEventEqualsBuildEvent) {
  ASSERT_TRUE(db_->CreateCollection("shop", "c", J("{changeStreamPreAndPostImages: {enabled: true}}")).ok());
  ASSERT_TRUE(db_->Insert("shop", "c", {J("{_id: 1, a: [{'1': 1}], s: 'x'}"), J("{_id: 2}"),
                                        J("{_id: {k: 'compound', n: [1, 2]}, v: 1}")}).errors.empty());
  ASSERT_TRUE(db_->Update("shop", "c", {J("{_id: 1}"), J("{$set: {'a.0.1': 2, s: 'y'}, $unset: {q: 1}}")}).ok());
  ASSERT_TRUE(db_->Update("shop", "c", {J("{_id: 2}"), J("{r: 1}")}).ok());
  ASSERT_TRUE(db_->Update("shop", "c", {J("{_id: {k: 'compound', n: [1, 2]}}"), J("{$inc: {v: 1}}")}).ok());
  ASSERT_TRUE(db_->Delete("shop", "c", J("{_id: 2}"), 1).ok());
  // A collection without images: required images are errors, whenAvailable ones null.
  ASSERT_TRUE(db_->Insert("shop", "plain", {J("{_id: 'p', x: 1}")}).errors.empty());
  // Every _id type the token is made from without decoding the key, and one it decodes.
  ASSERT_TRUE(db_->Insert("shop", "plain", {J("{_id: NumberLong(7)}"), J("{_id: 2.5}"), J("{_id: -0.0}"),
                                            J("{_id: ObjectId('5f1d7a2b9c8e4d3f2a1b0c9d')}"),
                                            J("{_id: ISODate('2020-01-02T03:04:05Z')}")})
                  .errors.empty());
  ASSERT_TRUE(db_->Update("shop", "plain", {J("{_id: 'p'}"), J("{$set: {x: 2}}")}).ok());
  ASSERT_TRUE(db_->Update("shop", "plain", {J("{_id: 'p'}"), J("{x: 3}")}).ok());
  ASSERT_TRUE(db_->Delete("shop", "plain", J("{_id: 'p'}"), 1).ok());
  ASSERT_TRUE(db_->Insert("other", "c", {J("{_id: 1}")}).errors.empty());
  ASSERT_TRUE(db_->CreateIndex("shop", "c", J("{s: 1}")).ok());
  ASSERT_TRUE(db_->RenameCollection("shop", "c", "shop", "d").ok());
  ASSERT_TRUE(db_->DropCollection("shop", "d").ok());
  ASSERT_TRUE(db_->DropDatabase("shop").ok());
  auto entries = db_->engine().ReadChangeLog(bson::Timestamp(), 1000);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_GE(entries->size(), 15u);

  std::vector<WatchOptions> table(10, WatchOptions{"shop"});
  table[1].full_document = FullDocument::kUpdateLookup;
  table[2].full_document = FullDocument::kWhenAvailable;
  table[2].full_document_before_change = FullDocumentBeforeChange::kWhenAvailable;
  table[3].full_document = FullDocument::kRequired;
  table[4].full_document_before_change = FullDocumentBeforeChange::kRequired;
  table[5].show_expanded_events = true;
  table[5].full_document = FullDocument::kWhenAvailable;
  table[6].db.clear();  // a deployment stream
  table[7].collection = "c";
  table[7].full_document = FullDocument::kUpdateLookup;
  table[7].full_document_before_change = FullDocumentBeforeChange::kWhenAvailable;
  table[8].collection = "plain";
  table[8].show_expanded_events = true;
  table[9].db = "other";
  size_t events = 0, errors = 0, skipped = 0;
  for (size_t t = 0; t < table.size(); ++t) {
    for (const storage::ChangeLogEntry& raw : *entries) {
      auto entry = DecodeEntry(raw.raw);
      ASSERT_TRUE(entry.ok());
      SCOPED_TRACE("options " + std::to_string(t) + ", entry " + bson::ToJson(*entry));
      auto built = BuildEvent(*entry, table[t], &db_->engine());
      std::string bytes = "x";  // BuildEncodedEvent appends
      auto encoded = BuildEncodedEvent(raw.raw, table[t], &db_->engine(), &bytes);
      ASSERT_EQ(built.ok(), encoded.ok()) << (built.ok() ? encoded.status() : built.status()).ToString();
      if (!built.ok()) {
        EXPECT_EQ(built.status().ToString(), encoded.status().ToString());
        EXPECT_EQ(bytes, "x");
        ++errors;
        continue;
      }
      ASSERT_EQ(built->has_value(), *encoded);
      if (!*encoded) {
        EXPECT_EQ(bytes, "x");
        ++skipped;
        continue;
      }
      EXPECT_EQ(bytes.substr(1), bson::Encode(**built))
          << bson::ToJson(**built, bson::JsonMode::kCanonical);
      ++events;
    }
  }
  EXPECT_GT(events, 60u);
  EXPECT_GE(errors, 3u);  // required post-image (update) and pre-images (update, replace, delete)
  EXPECT_GT(skipped, 20u);
}

TEST_F(ChangeStreamTest, MalformedEntriesAreErrorsNotCrashes) {
  WatchOptions o{"shop"};
  std::string out;
  std::string good = bson::Encode(J("{ts: Timestamp(1, 1), wall: new Date(0), op: 'insert', "
                                    "db: 'shop', coll: 'c', dk: {_id: 1}, doc: {_id: 1}}"));
  ASSERT_TRUE(BuildEncodedEvent(good, o, nullptr, &out).ok());
  struct Case {
    std::string bytes;
    const char* message;
  };
  std::vector<Case> cases = {
      {good.substr(0, good.size() - 1), "malformed BSON"},
      {std::string("garbage"), "malformed BSON"},
      {bson::Encode(J("{ts: Timestamp(1, 1), wall: new Date(0), db: 'shop', coll: 'c'}")),
       "lacks one of op, db, ts, wall"},
      {bson::Encode(J("{ts: 1, wall: new Date(0), op: 'insert', db: 'shop'}")), "'ts' is not a timestamp"},
      {bson::Encode(J("{ts: Timestamp(1, 1), wall: new Date(0), op: 5, db: 'shop'}")), "'op' is not a string"},
      {bson::Encode(J("{ts: Timestamp(1, 1), wall: new Date(0), op: 'insert', db: 'shop', "
                      "coll: 'c', dk: 1}")),
       "'dk' is not a document"},
  };
  for (const Case& c : cases) {
    out.clear();
    auto r = BuildEncodedEvent(c.bytes, o, nullptr, &out);
    ASSERT_FALSE(r.ok()) << c.message;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidBSON);
    EXPECT_NE(r.status().message().find(c.message), std::string::npos) << r.status().message();
    EXPECT_TRUE(out.empty());
  }
}

// The same stream read from the hub's ring (shared decoded entries), from the engine (entry
// bytes) and with a filter (events as Documents for the matcher) gives the same events; the
// encoded and Document forms of each agree.
TEST_F(ChangeStreamTest, RingEngineAndFilteredPathsAgree) {
  ASSERT_TRUE(db_->CreateCollection("shop", "c", J("{changeStreamPreAndPostImages: {enabled: true}}")).ok());
  WatchOptions o{"shop", "c"};
  o.full_document = FullDocument::kWhenAvailable;
  o.full_document_before_change = FullDocumentBeforeChange::kWhenAvailable;
  Hub hub(&db_->engine());
  // From here on every entry is in the hub's ring.
  o.start_at_operation_time =
      bson::Timestamp::FromUint64(db_->engine().committed().AsUint64() + 1);
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(db_->Insert("shop", "c", {bson::Document{{"_id", int32_t{i}}, {"n", int32_t{i}}}}).errors.empty());
    if (i % 3 == 0) {
      ASSERT_TRUE(db_->Update("shop", "c", {bson::Document{{"_id", int32_t{i}}}, J("{$inc: {n: 100}}")}).ok());
    }
    if (i % 7 == 0) {
      ASSERT_TRUE(db_->Delete("shop", "c", bson::Document{{"_id", int32_t{i}}}, 1).ok());
    }
  }
  ASSERT_TRUE(db_->DropCollection("shop", "c").ok());
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (hub.tail() < db_->engine().committed() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  WatchOptions filtered = o;
  filtered.filter = J("{operationType: {$in: ['insert', 'update', 'replace', 'delete', 'drop', 'invalidate']}}");
  auto from_ring = ChangeStream::Open(&db_->engine(), o, &hub);
  auto from_engine = ChangeStream::Open(&db_->engine(), o);
  auto with_filter = ChangeStream::Open(&db_->engine(), filtered);
  ASSERT_TRUE(from_ring.ok() && from_engine.ok() && with_filter.ok());
  auto read_all = [](ChangeStream& cs, bool encoded) {
    std::vector<std::string> out;
    for (;;) {
      std::string bytes;
      if (encoded) {
        auto got = cs.TryNextEncoded(&bytes);
        EXPECT_TRUE(got.ok()) << got.status().ToString();
        if (!got.ok() || !*got) break;
      } else {
        auto e = cs.TryNext();
        EXPECT_TRUE(e.ok()) << e.status().ToString();
        if (!e.ok() || !e->has_value()) break;
        bytes = bson::Encode(**e);
      }
      out.push_back(bytes);
    }
    EXPECT_TRUE(cs.invalidated());
    return out;
  };
  // Whole batches (the wire cursor's way): a buffer with room may be traded for the stream's
  // (all ready events at once), else the events are copied (part of them).
  auto read_batches = [&](std::vector<size_t> limits, ChangeStream& cs) {
    std::vector<std::string> events;
    for (size_t max_events : limits) {
      std::string buffer;
      buffer.reserve(1 << 20);
      std::vector<size_t> offsets;
      auto n = cs.NextEncodedBatch(std::chrono::steady_clock::now(), max_events, 1 << 20, &buffer,
                                   &offsets);
      EXPECT_TRUE(n.ok()) << n.status().ToString();
      if (!n.ok()) break;
      EXPECT_EQ(*n, offsets.size());
      if (max_events) {
        EXPECT_EQ(*n, max_events);
      }
      for (size_t k = 0; k < offsets.size(); ++k) {
        size_t end = k + 1 < offsets.size() ? offsets[k + 1] : buffer.size();
        events.push_back(buffer.substr(offsets[k], end - offsets[k]));
      }
    }
    EXPECT_TRUE(cs.invalidated());
    return events;
  };
  auto batched = ChangeStream::Open(&db_->engine(), o);
  auto traded = ChangeStream::Open(&db_->engine(), o);
  ASSERT_TRUE(batched.ok() && traded.ok());
  std::vector<std::string> batches = read_batches({3, 0}, **batched);
  std::vector<std::string> whole = read_batches({0}, **traded);
  std::vector<std::string> ring = read_all(**from_ring, true);
  std::vector<std::string> engine = read_all(**from_engine, false);
  std::vector<std::string> filter = read_all(**with_filter, true);
  EXPECT_EQ(ring, batches);
  EXPECT_EQ(ring, whole);
  EXPECT_EQ(ring.size(), 50u + 17u + 8u + 2u);  // inserts, updates, deletes, drop + invalidate
  EXPECT_EQ(ring, engine);
  EXPECT_EQ(ring, filter);
  // The resume token after the last event is the invalidate's.
  EXPECT_EQ((*from_ring)->resume_token(), (*from_engine)->resume_token());
  EXPECT_EQ((*batched)->resume_token(), (*from_engine)->resume_token());
  EXPECT_EQ((*traded)->resume_token(), (*from_engine)->resume_token());
}

// Watchers running during a write storm see every write exactly once, in commit order, and
// never an event of a write that is not committed.
TEST_F(ChangeStreamTest, ConcurrentWritersWatcherSeesEverythingInOrder) {
  constexpr int kWriters = 4, kPerWriter = 300;
  auto cs = Watch(WatchOptions{"shop", "storm"});
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < kPerWriter; ++i) {
        bson::Document d{{"_id", int32_t{w * 100000 + i}}, {"w", int32_t{w}}, {"i", int32_t{i}}};
        ASSERT_TRUE(db_->Insert("shop", "storm", {d}).errors.empty());
      }
    });
  }
  std::vector<int> next(kWriters, 0);
  bson::Timestamp last;
  int seen = 0;
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (seen < kWriters * kPerWriter && std::chrono::steady_clock::now() < deadline) {
    auto e = cs->Next(std::chrono::steady_clock::now() + 1s);
    ASSERT_TRUE(e.ok());
    if (!e->has_value()) continue;
    const bson::Document& ev = **e;
    bson::Timestamp ts = ev.Get("clusterTime")->as_timestamp();
    EXPECT_LT(last, ts);
    last = ts;
    const bson::Document& full = ev.Get("fullDocument")->as_document();
    int w = full.Get("w")->as_int32();
    EXPECT_EQ(full.Get("i")->as_int32(), next[w]) << "writer " << w;
    next[w] = full.Get("i")->as_int32() + 1;
    seen++;
  }
  for (auto& t : writers) t.join();
  EXPECT_EQ(seen, kWriters * kPerWriter);
  auto extra = cs->TryNext();
  ASSERT_TRUE(extra.ok());
  EXPECT_FALSE(extra->has_value());
}

}  // namespace
}  // namespace eddy::changestream
