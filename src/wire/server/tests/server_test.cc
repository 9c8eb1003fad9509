// The server against a fake dispatcher, driven by plain POSIX sockets (no Asio in the test, so
// the client side is independent of the code under test).
#include "wire/server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "bson/codec.h"
#include "bson/json.h"
#include "wire/protocol/compression.h"
#include "wire/protocol/frame.h"
#include "wire/protocol/op_msg.h"
#include "wire/protocol/op_query.h"

namespace eddy::wire {
namespace {

using namespace std::chrono_literals;

bson::Document J(std::string_view json) {
  auto d = bson::ParseJson(json);
  EXPECT_TRUE(d.ok()) << json;
  return d.ok() ? *d : bson::Document{};
}
std::string Shell(const bson::Document& d) { return bson::ToJson(d, bson::JsonMode::kShell); }

// Answers {ok: 1, echo: <command>, db, connectionId, legacy, moreToCome}. Commands steer it:
//   sleepMs: N   -> answers from another thread after N ms
//   close: 1     -> Reply.close_connection
//   throw: 1     -> Dispatch throws
//   hang: 1      -> keeps `done` and never calls it (until the test does)
class FakeDispatcher : public CommandDispatcher {
 public:
  ~FakeDispatcher() override {
    for (auto& t : threads_) t.join();
  }

  void Dispatch(const ConnectionInfo& connection, Request request,
                std::function<void(Reply)> done) override {
    dispatched_++;
    const bson::Document& cmd = request.command;
    {
      std::lock_guard<std::mutex> l(mu_);
      seen_.push_back(Shell(cmd));
      connection_ids_.insert(connection.id);
    }
    if (cmd.Has("throw")) throw std::runtime_error("dispatcher blew up");
    if (cmd.Has("hang")) {
      std::lock_guard<std::mutex> l(mu_);
      hung_.push_back(std::move(done));
      return;
    }
    Reply reply;
    if (cmd.Has("close")) {
      reply.close_connection = true;
      done(std::move(reply));
      return;
    }
    reply.body = bson::Document{{"ok", 1.0},
                                {"echo", cmd},
                                {"db", request.db},
                                {"connectionId", connection.id},
                                {"legacy", request.legacy_op_query},
                                {"moreToCome", request.more_to_come},
                                {"remote", connection.remote},
                                {"local", connection.local}};
    if (const bson::Value* pad = cmd.Get("padBytes")) {
      reply.body.Append("pad", std::string(static_cast<size_t>(pad->ToInt64()), 'x'));
    }
    if (const bson::Value* ms = cmd.Get("sleepMs")) {
      int64_t delay = ms->ToInt64();
      std::lock_guard<std::mutex> l(mu_);
      threads_.emplace_back([delay, done = std::move(done), reply = std::move(reply)]() mutable {
        std::this_thread::sleep_for(std::chrono::milliseconds(delay));
        done(std::move(reply));
      });
      return;
    }
    done(std::move(reply));
  }

  void ConnectionClosed(const ConnectionInfo& connection) override { closed_++; }

  std::vector<std::function<void(Reply)>> TakeHung() {
    std::lock_guard<std::mutex> l(mu_);
    return std::move(hung_);
  }
  size_t hung_count() {
    std::lock_guard<std::mutex> l(mu_);
    return hung_.size();
  }
  std::vector<std::string> seen() {
    std::lock_guard<std::mutex> l(mu_);
    return seen_;
  }

  std::atomic<int> dispatched_{0};
  std::atomic<int> closed_{0};

 private:
  std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<std::string> seen_;
  std::set<int64_t> connection_ids_;
  std::vector<std::function<void(Reply)>> hung_;
};

// A blocking test client over a POSIX socket.
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  }
  ~Client() { Close(); }
  Client(const Client&) = delete;

  bool connected() const { return connected_; }
  void Close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // Reads exactly n bytes; false on EOF, error or timeout.
  bool ReadExactly(size_t n, std::string* out, std::chrono::milliseconds timeout = 5000ms) {
    out->clear();
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out->size() < n) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[65536];
      ssize_t got = ::recv(fd_, buf, std::min(sizeof(buf), n - out->size()), 0);
      if (got <= 0) return false;
      out->append(buf, static_cast<size_t>(got));
    }
    return true;
  }

  // Reads one whole message (header included).
  bool ReadMessage(std::string* out, std::chrono::milliseconds timeout = 5000ms) {
    std::string head;
    if (!ReadExactly(kHeaderSize, &head, timeout)) return false;
    int32_t len = ReadInt32LE(head.data());
    if (len < 16) return false;
    std::string rest;
    if (!ReadExactly(static_cast<size_t>(len) - kHeaderSize, &rest, timeout)) return false;
    *out = head + rest;
    return true;
  }

  // True when the server closed the connection (EOF or reset) within the timeout.
  bool ClosedByPeer(std::chrono::milliseconds timeout = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      ssize_t got = ::recv(fd_, buf, sizeof(buf), 0);
      if (got <= 0) return true;  // anything read before EOF is ignored
    }
  }

  // Sends an OP_MSG command and returns the reply body (empty on failure).
  bson::Document Command(const bson::Document& cmd, int32_t request_id = 1) {
    if (!Send(SerializeOpMsg(request_id, 0, cmd))) return {};
    std::string reply;
    if (!ReadMessage(&reply)) return {};
    auto h = ParseHeader(reply);
    EXPECT_EQ(h->response_to, request_id);
    auto msg = ParseOpMsg(reply);
    EXPECT_TRUE(msg.ok()) << msg.status().ToString();
    return msg.ok() ? msg->body : bson::Document{};
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

bool Eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = 5000ms) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond()) return true;
    std::this_thread::sleep_for(2ms);
  }
  return cond();
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(ServerOptions{}); }

  void StartServer(ServerOptions options) {
    server_.reset();
    options.port = 0;
    options.io_threads = options.io_threads ? options.io_threads : 2;
    options.log_errors = false;
    auto s = Server::Start(options, &dispatcher_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(s).value();
    ASSERT_NE(server_->port(), 0);
  }

  uint16_t port() const { return server_->port(); }

  FakeDispatcher dispatcher_;  // declared first: outlives the server
  std::unique_ptr<Server> server_;
};

std::string Message(int32_t op_code, const std::string& rest, int32_t request_id = 7) {
  std::string out;
  AppendHeader({static_cast<int32_t>(kHeaderSize + rest.size()), request_id, 0, op_code}, &out);
  return out + rest;
}

std::string I32(int32_t v) {
  std::string s;
  AppendInt32LE(v, &s);
  return s;
}

TEST_F(ServerTest, OpMsgRoundTrip) {
  Client c(port());
  ASSERT_TRUE(c.connected());
  bson::Document reply = c.Command(J("{ping: 1, $db: 'test'}"), 5);
  EXPECT_EQ(Shell(reply),
            Shell(bson::Document{{"ok", 1.0},
                                 {"echo", J("{ping: 1, $db: 'test'}")},
                                 {"db", "test"},
                                 {"connectionId", int64_t{1}},
                                 {"legacy", false},
                                 {"moreToCome", false},
                                 {"remote", reply.Get("remote")->as_string()},
                                 {"local", "127.0.0.1:" + std::to_string(port())}}));
  EXPECT_EQ(reply.Get("remote")->as_string().rfind("127.0.0.1:", 0), 0u);
  // The next request on the same connection.
  EXPECT_EQ(c.Command(J("{ping: 2, $db: 'x'}"), 6).Get("db")->as_string(), "x");
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(ServerTest, OpQueryHandshakeGetsOpReply) {
  Client c(port());
  std::string query = bson::Encode(J("{isMaster: 1, helloOk: true, client: {driver: "
                                     "{name: 'mongoc', version: '1.23.1'}}, compression: []}"));
  std::string rest = I32(4) + "admin.$cmd" + std::string(1, '\0') + I32(0) + I32(-1) + query;
  ASSERT_TRUE(c.Send(Message(2004, rest, 42)));
  std::string reply;
  ASSERT_TRUE(c.ReadMessage(&reply));
  auto h = ParseHeader(reply);
  EXPECT_EQ(h->op_code, 1);
  EXPECT_EQ(h->response_to, 42);
  EXPECT_EQ(ReadInt32LE(reply.data() + 16), 0);  // responseFlags
  EXPECT_EQ(ReadInt32LE(reply.data() + 20), 0);  // cursorID
  EXPECT_EQ(ReadInt32LE(reply.data() + 24), 0);
  EXPECT_EQ(ReadInt32LE(reply.data() + 28), 0);  // startingFrom
  EXPECT_EQ(ReadInt32LE(reply.data() + 32), 1);  // numberReturned
  auto doc = bson::Decode(std::string_view(reply).substr(36));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->Get("legacy")->as_bool(), true);
  EXPECT_EQ(doc->Get("db")->as_string(), "admin");
  EXPECT_EQ(Shell(doc->Get("echo")->as_document()),
            "{isMaster: 1, helloOk: true, client: {driver: {name: \"mongoc\", version: "
            "\"1.23.1\"}}, compression: [], $readPreference: {mode: \"secondaryPreferred\"}, "
            "$db: \"admin\"}");
  // After the handshake the same connection speaks OP_MSG.
  EXPECT_EQ(c.Command(J("{ping: 1, $db: 'admin'}")).Get("ok")->as_double_exact(), 1.0);
}

TEST_F(ServerTest, OpQueryOnACollectionGetsQueryFailure) {
  Client c(port());
  std::string rest = I32(64) + "shop.orders" + std::string(1, '\0') + I32(0) + I32(0) +
                     bson::Encode(J("{}"));
  ASSERT_TRUE(c.Send(Message(2004, rest, 9)));
  std::string reply;
  ASSERT_TRUE(c.ReadMessage(&reply));
  EXPECT_EQ(ReadInt32LE(reply.data() + 16), kReplyQueryFailure);
  auto doc = bson::Decode(std::string_view(reply).substr(36));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(doc->Get("code")->as_int32(), 352);
  EXPECT_EQ(dispatcher_.dispatched_.load(), 0);
  EXPECT_EQ(c.Command(J("{ping: 1, $db: 'a'}")).Get("ok")->as_double_exact(), 1.0);
}

TEST_F(ServerTest, DocumentSequences) {
  Client c(port());
  std::string body = bson::Encode(J("{insert: 'c', ordered: true, $db: 'shop'}"));
  std::string payload = std::string("documents") + '\0' + bson::Encode(J("{_id: 1}")) +
                        bson::Encode(J("{_id: 2, tags: ['a', null]}"));
  std::string sections = std::string(1, '\0') + body + std::string(1, '\1') +
                         I32(static_cast<int32_t>(payload.size() + 4)) + payload;
  ASSERT_TRUE(c.Send(Message(2013, I32(0) + sections, 3)));
  std::string reply;
  ASSERT_TRUE(c.ReadMessage(&reply));
  auto msg = ParseOpMsg(reply);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(Shell(msg->body.Get("echo")->as_document()),
            Shell(J("{insert: 'c', ordered: true, $db: 'shop', documents: [{_id: 1}, "
                    "{_id: 2, tags: ['a', null]}]}")));
}

TEST_F(ServerTest, MoreToComeGetsNoReply) {
  Client c(port());
  ASSERT_TRUE(c.Send(SerializeOpMsg(10, 0, J("{insert: 'c', documents: [{a: 1}], $db: 'd'}"),
                                    kMoreToCome)));
  // An invalid moreToCome request gets no error reply either.
  ASSERT_TRUE(c.Send(SerializeOpMsg(11, 0, J("{insert: 'c'}"), kMoreToCome)));
  bson::Document reply = c.Command(J("{ping: 1, $db: 'd'}"), 12);  // checks responseTo == 12
  EXPECT_EQ(reply.Get("ok")->as_double_exact(), 1.0);
  EXPECT_EQ(dispatcher_.dispatched_.load(), 2);
  auto seen = dispatcher_.seen();
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0], "{insert: \"c\", documents: [{a: 1}], $db: \"d\"}");
  std::string extra;
  EXPECT_FALSE(c.ReadExactly(1, &extra, 100ms));  // nothing else arrives
}

TEST_F(ServerTest, PipelinedRequestsAnswerInOrder) {
  Client c(port());
  std::string batch;
  int delays[] = {60, 5, 30, 0};
  for (int i = 0; i < 4; ++i) {
    batch += SerializeOpMsg(100 + i, 0,
                            bson::Document{{"ping", i}, {"sleepMs", delays[i]}, {"$db", "a"}});
  }
  ASSERT_TRUE(c.Send(batch));
  for (int i = 0; i < 4; ++i) {
    std::string reply;
    ASSERT_TRUE(c.ReadMessage(&reply));
    EXPECT_EQ(ParseHeader(reply)->response_to, 100 + i);
  }
}

// A reply written whole by the thread that produced it leaves the session waiting for the
// socket to become readable rather than resumed at once (Session::CallDispatcher's quiet
// wait). Each way that wait can end works: the next request (sent just after the reply,
// or a while later), a request sent before the reply came (the client did not wait), and
// the client's close, also right after the reply or while a command is still running.
TEST_F(ServerTest, SessionsWaitingAfterARepliedCommandSeeTheNextRequestOrTheClose) {
  {
    Client c(port());
    for (int i = 0; i < 20; ++i) {
      bson::Document r = c.Command(bson::Document{{"ping", i}, {"sleepMs", i % 2}, {"$db", "a"}}, i + 1);
      ASSERT_EQ(r.Get("echo")->as_document().Get("ping")->as_int32(), i);
      if (i % 5 == 0) std::this_thread::sleep_for(20ms);
    }
    // The next request goes out before the reply to this one (answered 50 ms later).
    ASSERT_TRUE(c.Send(SerializeOpMsg(50, 0, J("{ping: 50, sleepMs: 50, $db: 'a'}"))));
    std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(c.Send(SerializeOpMsg(51, 0, J("{ping: 51, $db: 'a'}"))));
    for (int id : {50, 51}) {
      std::string reply;
      ASSERT_TRUE(c.ReadMessage(&reply));
      EXPECT_EQ(ParseHeader(reply)->response_to, id);
    }
  }  // closed right after a reply from another thread
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
  EXPECT_EQ(dispatcher_.closed_.load(), 1);

  {
    Client c(port());
    ASSERT_FALSE(c.Command(J("{ping: 1, sleepMs: 1, $db: 'a'}"), 1).empty());
    ASSERT_TRUE(c.Send(SerializeOpMsg(2, 0, J("{ping: 2, sleepMs: 100, $db: 'a'}"))));
  }  // closed while a command runs: the session ends once its reply is dropped
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
  EXPECT_EQ(dispatcher_.closed_.load(), 2);
}

TEST_F(ServerTest, SlowCallbackDoesNotBlockOtherConnections) {
  Client slow(port());
  Client fast(port());
  ASSERT_TRUE(slow.Send(SerializeOpMsg(1, 0, J("{ping: 1, sleepMs: 400, $db: 'a'}"))));
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(fast.Command(J("{ping: 1, $db: 'a'}"), i).Get("ok")->as_double_exact(), 1.0);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 350ms);
  std::string reply;
  ASSERT_TRUE(slow.ReadMessage(&reply));
  EXPECT_EQ(ParseHeader(reply)->response_to, 1);
}

TEST_F(ServerTest, HundredConcurrentConnections) {
  constexpr int kClients = 100;
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(clients.back()->connected());
  }
  // Every client has a request in flight at once (some answered from other threads).
  for (int i = 0; i < kClients; ++i) {
    bson::Document cmd{{"ping", i}, {"$db", "a"}};
    if (i % 3 == 0) cmd.Append("sleepMs", 20);
    ASSERT_TRUE(clients[i]->Send(SerializeOpMsg(i + 1, 0, cmd)));
  }
  std::set<int64_t> ids;
  for (int i = 0; i < kClients; ++i) {
    std::string reply;
    ASSERT_TRUE(clients[i]->ReadMessage(&reply)) << i;
    EXPECT_EQ(ParseHeader(reply)->response_to, i + 1);
    auto msg = ParseOpMsg(reply);
    ASSERT_TRUE(msg.ok());
    EXPECT_EQ(msg->body.Get("echo")->as_document().Get("ping")->as_int32(), i);
    ids.insert(msg->body.Get("connectionId")->as_int64());
  }
  EXPECT_EQ(ids.size(), static_cast<size_t>(kClients));
  EXPECT_EQ(*ids.begin(), 1);
  EXPECT_EQ(*ids.rbegin(), kClients);
  EXPECT_EQ(server_->connection_count(), static_cast<size_t>(kClients));
  EXPECT_EQ(server_->total_connections(), kClients);

  // Many threads, many requests each, concurrently.
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int r = 0; r < 25; ++r) {
        auto reply = clients[t * 10]->Command(bson::Document{{"n", r}, {"$db", "a"}}, r + 1);
        if (reply.Has("ok")) ok++;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 200);

  clients.clear();
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 0; }));
  EXPECT_EQ(dispatcher_.closed_.load(), kClients);
}

// Each misbehaving client loses only its own connection; a bystander keeps working.
TEST_F(ServerTest, BadFramesCloseOnlyThatConnection) {
  Client bystander(port());
  ASSERT_EQ(bystander.Command(J("{ping: 1, $db: 'a'}")).Get("ok")->as_double_exact(), 1.0);

  std::string valid = SerializeOpMsg(1, 0, J("{ping: 1, $db: 'a'}"));
  std::mt19937 rng(7);
  std::string garbage(300, '\0');
  for (char& ch : garbage) ch = static_cast<char>(rng());
  std::string oversized;
  AppendHeader({48'000'001, 1, 0, 2013}, &oversized);
  std::string huge_negative;
  AppendHeader({-5, 1, 0, 2013}, &huge_negative);
  std::string too_small;
  AppendHeader({15, 1, 0, 2013}, &too_small);
  std::string illegal_flag = valid;
  illegal_flag[16] = 4;  // required flag bit 2
  std::string bad_crc = valid;
  bad_crc[16] = 1;  // checksumPresent: the last 4 bytes of the body are taken as a wrong CRC

  struct Case {
    const char* name;
    std::string bytes;
    bool half_close;  // stop sending mid-frame (truncated frame)
  } cases[] = {
      {"random garbage", garbage, false},
      {"length above maxMessageSizeBytes", oversized, false},
      {"negative length", huge_negative, false},
      {"length below 16", too_small, false},
      {"unknown opcode 2010", Message(2010, "xyz"), false},
      {"legacy OP_INSERT", Message(2002, I32(0) + "a.b" + std::string(1, '\0')), false},
      {"illegal OP_MSG flag", illegal_flag, false},
      {"checksum mismatch", bad_crc, false},
      {"truncated frame then EOF", valid.substr(0, valid.size() - 5), true},
      {"truncated header then EOF", valid.substr(0, 9), true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Client bad(port());
    ASSERT_TRUE(bad.connected());
    bad.Send(c.bytes);
    if (c.half_close) {
      // The server keeps waiting for the rest of a frame; the bystander is unaffected meanwhile.
      EXPECT_EQ(bystander.Command(J("{ping: 2, $db: 'a'}")).Get("ok")->as_double_exact(), 1.0);
      bad.Close();
    } else {
      EXPECT_TRUE(bad.ClosedByPeer());
    }
    EXPECT_EQ(bystander.Command(J("{ping: 3, $db: 'a'}")).Get("ok")->as_double_exact(), 1.0);
  }
  EXPECT_EQ(dispatcher_.dispatched_.load(), 2 + 10 + 1);  // only the bystander's requests
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 1; }));
}

TEST_F(ServerTest, InvalidBsonGetsAnErrorReplyAndTheConnectionLives) {
  Client c(port());
  std::string doc = bson::Encode(J("{ping: 1, $db: 'a'}"));
  doc[4] = 0x7f;  // not a BSON type
  ASSERT_TRUE(c.Send(Message(2013, I32(0) + std::string(1, '\0') + doc, 77)));
  std::string reply;
  ASSERT_TRUE(c.ReadMessage(&reply));
  EXPECT_EQ(ParseHeader(reply)->response_to, 77);
  auto msg = ParseOpMsg(reply);
  ASSERT_TRUE(msg.ok());
  EXPECT_EQ(msg->body.Get("ok")->as_double_exact(), 0.0);
  EXPECT_EQ(msg->body.Get("code")->as_int32(), 22);
  EXPECT_EQ(msg->body.Get("codeName")->as_string(), "InvalidBSON");
  EXPECT_NE(msg->body.Get("errmsg")->as_string().find("invalid BSON"), std::string::npos);
  // Missing $db: an error reply too.
  bson::Document no_db = c.Command(J("{ping: 1}"), 78);
  EXPECT_EQ(no_db.Get("code")->as_int32(), 40571);
  EXPECT_EQ(c.Command(J("{ping: 1, $db: 'a'}"), 79).Get("ok")->as_double_exact(), 1.0);
  EXPECT_EQ(dispatcher_.dispatched_.load(), 1);
}

// A reply produced on another thread is written by that thread when the socket takes it at
// once; one larger than the socket buffer (the client is not reading yet) is finished by the
// session. Either way it arrives whole and in order.
TEST_F(ServerTest, LargeRepliesFromOtherThreadsArriveWholeAndInOrder) {
  Client c(port());
  ASSERT_TRUE(c.connected());
  const int64_t kPad = 12 * 1024 * 1024;
  bson::Document big{{"big", 1}, {"sleepMs", 1}, {"padBytes", kPad}, {"$db", "t"}};
  bson::Document small{{"small", 1}, {"sleepMs", 1}, {"$db", "t"}};
  ASSERT_TRUE(c.Send(SerializeOpMsg(1, 0, big) + SerializeOpMsg(2, 0, small) +
                     SerializeOpMsg(3, 0, big)));
  std::this_thread::sleep_for(300ms);  // let the socket buffer fill before reading
  for (int32_t id : {1, 2, 3}) {
    std::string reply;
    ASSERT_TRUE(c.ReadMessage(&reply, 10000ms)) << id;
    EXPECT_EQ(ParseHeader(reply)->response_to, id);
    auto msg = ParseOpMsg(reply);
    ASSERT_TRUE(msg.ok()) << msg.status().ToString();
    const bson::Value* pad = msg->body.Get("pad");
    if (id == 2) {
      EXPECT_EQ(pad, nullptr);
    } else {
      ASSERT_NE(pad, nullptr);
      EXPECT_EQ(static_cast<int64_t>(pad->as_string().size()), kPad);
    }
  }
  EXPECT_EQ(c.Command(J("{ping: 1, $db: 't'}"), 9).Get("ok")->ToDouble(), 1.0);
}

// Replies to a connection that closes while its command runs go nowhere (and never to a new
// connection that got the same descriptor number).
TEST_F(ServerTest, ReplyAfterTheClientLeftIsDropped) {
  {
    Client gone(port());
    ASSERT_TRUE(gone.connected());
    ASSERT_TRUE(gone.Send(SerializeOpMsg(1, 0, J("{sleepMs: 200, $db: 't'}"))));
  }
  std::vector<std::unique_ptr<Client>> fresh;
  for (int i = 0; i < 5; ++i) {
    fresh.push_back(std::make_unique<Client>(port()));
    ASSERT_TRUE(fresh.back()->connected());
  }
  std::this_thread::sleep_for(400ms);  // the sleeping command answered meanwhile
  for (auto& c : fresh) {
    bson::Document r = c->Command(J("{ping: 1, $db: 't'}"), 4);
    ASSERT_FALSE(r.empty());
    EXPECT_EQ(r.Get("echo")->as_document().at(0).name, "ping");  // not the stale reply
  }
}

TEST_F(ServerTest, CloseConnectionReply) {
  Client c(port());
  ASSERT_TRUE(c.Send(SerializeOpMsg(1, 0, J("{close: 1, $db: 'a'}"))));
  EXPECT_TRUE(c.ClosedByPeer());
  EXPECT_TRUE(Eventually([&] { return dispatcher_.closed_.load() == 1; }));
  Client again(port());
  EXPECT_EQ(again.Command(J("{ping: 1, $db: 'a'}")).Get("connectionId")->as_int64(), 2);
}

TEST_F(ServerTest, ThrowingDispatcherGetsInternalError) {
  Client c(port());
  bson::Document reply = c.Command(J("{throw: 1, $db: 'a'}"));
  EXPECT_EQ(reply.Get("ok")->as_double_exact(), 0.0);
  EXPECT_EQ(reply.Get("code")->as_int32(), 1);
  EXPECT_NE(reply.Get("errmsg")->as_string().find("dispatcher blew up"), std::string::npos);
  EXPECT_EQ(c.Command(J("{ping: 1, $db: 'a'}")).Get("ok")->as_double_exact(), 1.0);
}

TEST_F(ServerTest, CompressedRequestsGetCompressedReplies) {
  Client c(port());
  for (uint8_t id : {1, 2, 3}) {
    std::string plain = SerializeOpMsg(50 + id, 0, J("{find: 'c', filter: {a: 'xxxxxxxxxxxxxxxxxxxx"
                                                     "xxxxxxxxxxxxxxxxxxxxxxxxx'}, $db: 'a'}"));
    ASSERT_TRUE(c.Send(Compress(plain, id)));
    std::string reply;
    ASSERT_TRUE(c.ReadMessage(&reply));
    auto h = ParseHeader(reply);
    ASSERT_TRUE(h.ok());
    EXPECT_EQ(h->op_code, 2012);
    EXPECT_EQ(h->response_to, 50 + id);
    auto comp = ParseOpCompressed(reply);
    ASSERT_TRUE(comp.ok());
    EXPECT_EQ(comp->compressor_id, id);
    auto original = Decompress(*h, *comp);
    ASSERT_TRUE(original.ok());
    auto msg = ParseOpMsg(*original);
    ASSERT_TRUE(msg.ok());
    EXPECT_EQ(msg->body.Get("echo")->as_document().Get("find")->as_string(), "c");
  }
}

TEST_F(ServerTest, MaxConnections) {
  ServerOptions options;
  options.max_connections = 2;
  StartServer(options);
  Client a(port()), b(port());
  ASSERT_EQ(a.Command(J("{ping: 1, $db: 'a'}")).Get("ok")->as_double_exact(), 1.0);
  ASSERT_EQ(b.Command(J("{ping: 1, $db: 'a'}")).Get("ok")->as_double_exact(), 1.0);
  Client refused(port());
  EXPECT_TRUE(refused.ClosedByPeer());
  a.Close();
  EXPECT_TRUE(Eventually([&] { return server_->connection_count() == 1; }));
  Client later(port());
  EXPECT_EQ(later.Command(J("{ping: 1, $db: 'a'}")).Get("ok")->as_double_exact(), 1.0);
}

TEST_F(ServerTest, StopWithRequestsInsideTheDispatcher) {
  Client a(port()), b(port());
  ASSERT_TRUE(a.Send(SerializeOpMsg(1, 0, J("{hang: 1, $db: 'a'}"))));
  ASSERT_TRUE(b.Send(SerializeOpMsg(1, 0, J("{hang: 1, $db: 'a'}"))));
  ASSERT_TRUE(Eventually([&] { return dispatcher_.hung_count() == 2; }));
  Client idle(port());
  ASSERT_TRUE(Eventually([&] { return server_->connection_count() == 3; }));
  server_->Stop();
  EXPECT_EQ(server_->connection_count(), 0u);
  EXPECT_EQ(dispatcher_.closed_.load(), 3);
  EXPECT_TRUE(a.ClosedByPeer());
  EXPECT_TRUE(idle.ClosedByPeer());
  // The dispatcher finishing late (even on another thread) is harmless.
  auto hung = dispatcher_.TakeHung();
  std::thread late([&] {
    for (auto& done : hung) done(Reply{J("{ok: 1}"), false});
  });
  late.join();
  server_->Stop();  // idempotent
  server_.reset();
}

TEST(ServerStartTest, PortInUseAndBadAddress) {
  FakeDispatcher dispatcher;
  ServerOptions options;
  options.port = 0;
  options.io_threads = 1;
  auto first = Server::Start(options, &dispatcher);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  options.port = (*first)->port();
  auto second = Server::Start(options, &dispatcher);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code_number(), 9001);
  EXPECT_NE(second.status().message().find("bind"), std::string::npos)
      << second.status().message();

  options.port = 0;
  options.bind_address = "no-such-host.invalid";
  auto third = Server::Start(options, &dispatcher);
  ASSERT_FALSE(third.ok());
  EXPECT_EQ(third.status().code_number(), 9001);

  options.bind_address = "localhost";
  auto named = Server::Start(options, &dispatcher);
  EXPECT_TRUE(named.ok()) << named.status().ToString();
}

}  // namespace
}  // namespace eddy::wire
