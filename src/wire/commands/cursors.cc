#include "wire/commands/cursors.h"

#include <algorithm>
#include <atomic>
#include <random>

#include "bson/codec.h"
#include "bson/raw.h"

namespace eddy::wire {

namespace {
// Replies must stay under maxBsonObjectSize; leave room for the envelope.
constexpr size_t kMaxBatchBytes = 16 * 1024 * 1024 - 64 * 1024;
}  // namespace

Result<bool> VectorCursor::NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point,
                                     bson::Array* out) {
  size_t bytes = 0;
  while (!docs_.empty() && (batch_size <= 0 || static_cast<int64_t>(out->size()) < batch_size)) {
    size_t sz = bson::EncodedSize(docs_.front());
    if (!out->empty() && bytes + sz > kMaxBatchBytes) break;
    bytes += sz;
    out->push_back(std::move(docs_.front()));
    docs_.pop_front();
  }
  return !docs_.empty();
}

Result<bool> FindServerCursor::NextBatch(int64_t batch_size, std::chrono::steady_clock::time_point,
                                         bson::Array* out) {
  size_t bytes = 0;
  while (batch_size <= 0 || static_cast<int64_t>(out->size()) < batch_size) {
    bson::Document doc;
    if (pending_) {
      doc = std::move(*pending_);
      pending_.reset();
    } else if (!cursor_->Next(&doc)) {
      EDDY_RETURN_IF_ERROR(cursor_->status());
      return false;
    }
    size_t sz = bson::EncodedSize(doc);
    if (!out->empty() && bytes + sz > kMaxBatchBytes) {
      pending_ = std::move(doc);
      return true;
    }
    bytes += sz;
    out->push_back(std::move(doc));
  }
  // More may remain: peek so an exhausted cursor is reported in this batch (id 0).
  bson::Document doc;
  if (!cursor_->Next(&doc)) {
    EDDY_RETURN_IF_ERROR(cursor_->status());
    return false;
  }
  pending_ = std::move(doc);
  return true;
}

namespace {
std::atomic<int> prefetching{0};  // ChangeStreamCursors building a batch in the background
}  // namespace

ChangeStreamCursor::ChangeStreamCursor(std::unique_ptr<changestream::ChangeStream> cs,
                                       size_t reply_bytes)
    : cs_(std::move(cs)),
      reply_bytes_(reply_bytes == 0 ? kMaxBatchBytes : std::min(reply_bytes, kMaxBatchBytes)) {}

ChangeStreamCursor::~ChangeStreamCursor() { JoinPrefetch(); }

void ChangeStreamCursor::JoinPrefetch() {
  if (prefetch_.joinable()) prefetch_.join();
  prefetch_active_.store(false, std::memory_order_relaxed);
}

Status ChangeStreamCursor::Pull(std::chrono::steady_clock::time_point deadline,
                                std::deque<Event>* into) {
  // The events are encoded back to back into one buffer that the pull's documents share:
  // the reply copies them as they are, no event becomes a Document.
  // While catching up, the buffers of earlier pulls are reused once their replies are sent
  // (only this cursor holds them then): no fresh megabytes to fault in for every pull.
  std::shared_ptr<std::string> buffer;
  for (std::shared_ptr<std::string>& b : buffers_) {
    if (b.use_count() == 1) {
      buffer = b;
      buffer->clear();
      break;
    }
  }
  if (!buffer) {
    buffer = std::make_shared<std::string>();
    if (buffers_.size() < kKeptBuffers) buffers_.push_back(buffer);
  }
  buffer->reserve(std::min(last_pull_bytes_ + last_pull_bytes_ / 8 + 1024, kPullBytes + 4096));
  std::vector<size_t> offsets;
  Result<size_t> got = cs_->NextEncodedBatch(deadline, 0, kPullBytes, buffer.get(), &offsets);
  Status status = got.status();
  // Stopped on the byte limit: there may well be more (a backlog).
  backlog_ = buffer->size() > kPullBytes;
  // Caught up: an idle cursor keeps no big buffers.
  if (!backlog_) buffers_.clear();
  last_pull_bytes_ = buffer->size();
  std::shared_ptr<const std::string> shared = std::move(buffer);
  for (size_t k = 0; k < offsets.size(); ++k) {
    size_t end = k + 1 < offsets.size() ? offsets[k + 1] : shared->size();
    into->push_back(Event{bson::RawDocument{shared, offsets[k], end - offsets[k]}, end - offsets[k]});
  }
  return status;
}

void ChangeStreamCursor::UpdateToken(const bson::Value* last_returned) {
  // Events pulled but not returned: the stream is past what the client has seen.
  // (prefetch_running() before ahead_: while the prefetch runs, only its thread touches ahead_.)
  const bool ahead = !ready_.empty() || prefetch_running() || !ahead_.empty();
  if (ahead && last_returned != nullptr) {
    bson::RawElement id;
    if (bson::FindRawElement(last_returned->as_raw_document().bytes(), "_id", &id)) {
      Result<bson::Document> token = bson::Decode(id.value);
      if (token.ok()) {
        token_ = std::move(token).value();
        return;
      }
    }
  }
  if (ahead) return;  // nothing returned this time: the last token stands
  token_ = cs_->resume_token();
}

Result<bool> ChangeStreamCursor::NextBatch(int64_t batch_size,
                                           std::chrono::steady_clock::time_point deadline,
                                           bson::Array* out) {
  std::vector<size_t> sizes;
  return NextBatch(batch_size, deadline, out, &sizes);
}

Result<bool> ChangeStreamCursor::NextBatch(int64_t batch_size,
                                           std::chrono::steady_clock::time_point deadline,
                                           bson::Array* out, std::vector<size_t>* sizes) {
  if (ready_.empty()) {
    JoinPrefetch();
    if (!ahead_.empty()) {
      ready_.swap(ahead_);
    } else if (!prefetch_status_.ok()) {
      // The background pull failed: this getMore reports it (the events before it came
      // with earlier batches).
      Status s = prefetch_status_;
      prefetch_status_ = Status::OK();
      return s;
    } else {
      EDDY_RETURN_IF_ERROR(Pull(deadline, &ready_));
    }
  }
  size_t bytes = 0;
  while (!ready_.empty() && (batch_size <= 0 || static_cast<int64_t>(out->size()) < batch_size)) {
    const size_t size = ready_.front().size;
    if (!out->empty() && bytes + size > reply_bytes_) break;
    bytes += size;
    sizes->push_back(size);
    out->push_back(std::move(ready_.front().event));
    ready_.pop_front();
  }
  UpdateToken(out->empty() ? nullptr : &out->back());
  ready_now_.store(!ready_.empty(), std::memory_order_relaxed);
  // An invalidate is the last event: the cursor closes with the batch that carries it.
  bool more = true;
  if (ready_.empty() && !prefetch_running() && ahead_.empty()) {
    more = !cs_->invalidated() || !prefetch_status_.ok();
  }
  if (!prefetch_running() && backlog_ && more && ahead_.empty() && prefetch_status_.ok()) {
    // A backlog: pull the next chunk while the client reads this one.
    if (prefetching.fetch_add(1) < kMaxPrefetching) {
      prefetch_done_.store(false, std::memory_order_relaxed);
      prefetch_active_.store(true, std::memory_order_relaxed);
      prefetch_ = std::thread([this] {
        Status s = Pull(std::chrono::steady_clock::now(), &ahead_);
        if (!s.ok()) prefetch_status_ = s;
        prefetching.fetch_sub(1);
        prefetch_done_.store(true, std::memory_order_release);
      });
    } else {
      prefetching.fetch_sub(1);
    }
  }
  return more;
}

void ChangeStreamCursor::ReleaseIdleResources() {
  // Not while a background pull still reads the stream (the next reaper pass will do).
  if (prefetch_active_.load(std::memory_order_relaxed) &&
      !prefetch_done_.load(std::memory_order_acquire)) {
    return;
  }
  cs_->ReleaseStorage();
}

bool ChangeStreamCursor::ArmWake(std::chrono::steady_clock::time_point deadline,
                                 std::function<void()> wake) {
  if (!ready_.empty()) return false;
  JoinPrefetch();
  if (!ahead_.empty() || !prefetch_status_.ok()) return false;
  return cs_->ArmWake(deadline, std::move(wake));
}

CursorManager::CursorManager(std::chrono::milliseconds idle_timeout)
    : idle_timeout_(idle_timeout), reaper_([this] { ReaperLoop(); }) {}

CursorManager::~CursorManager() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  reaper_.join();
}

void CursorManager::ReaperLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto period = std::clamp<std::chrono::milliseconds>(idle_timeout_ / 2, std::chrono::milliseconds(10),
                                                        std::chrono::milliseconds(4000));
    cv_.wait_for(lock, period);
    if (stopping_) break;
    std::vector<std::shared_ptr<ServerCursor>> reaped;
    ReapLocked(&reaped);
    lock.unlock();
    reaped.clear();  // cursor destructors (change streams unregistering) run unlocked
    lock.lock();
  }
}

int64_t CursorManager::Add(std::string ns, std::shared_ptr<ServerCursor> cursor) {
  static thread_local std::mt19937_64 rng(std::random_device{}());
  std::lock_guard lock(mu_);
  int64_t id;
  do {
    id = static_cast<int64_t>(rng() & 0x3FFFFFFFFFFFFFFF);
  } while (id == 0 || cursors_.count(id));
  cursors_[id] = Entry{std::move(ns), std::move(cursor), std::chrono::steady_clock::now(), false, false};
  return id;
}

bool CursorManager::SetNoTimeout(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end()) return false;
  it->second.no_timeout = true;
  return true;
}

bool CursorManager::ReadyInMemory(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  return it != cursors_.end() && !it->second.in_use && it->second.cursor->ReadyInMemory();
}

Result<std::shared_ptr<ServerCursor>> CursorManager::Checkout(int64_t id, std::string_view ns) {
  std::vector<std::shared_ptr<ServerCursor>> reaped;  // destroyed after the lock is released
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  if (it != cursors_.end() && !it->second.in_use && !it->second.no_timeout &&
      std::chrono::steady_clock::now() - it->second.last_used > idle_timeout_) {
    // Timed out but not reaped yet: it is gone all the same.
    reaped.push_back(std::move(it->second.cursor));
    cursors_.erase(it);
    ++timed_out_;
    it = cursors_.end();
  }
  if (it == cursors_.end()) {
    return Status(ErrorCode::kCursorNotFound, "cursor id " + std::to_string(id) + " not found");
  }
  if (it->second.ns != ns) {
    return Status(ErrorCode::kUnauthorized, "Requested getMore on namespace '" + std::string(ns) +
                                                "', but cursor belongs to a different namespace " +
                                                it->second.ns);
  }
  if (it->second.in_use) {
    return Status(ErrorCode::kOperationFailed,
                  "cursor id " + std::to_string(id) + " is already in use");
  }
  it->second.in_use = true;
  return it->second.cursor;
}

void CursorManager::Return(int64_t id) {
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end()) return;
  it->second.in_use = false;
  it->second.last_used = std::chrono::steady_clock::now();
}

bool CursorManager::Kill(int64_t id) {
  std::shared_ptr<ServerCursor> victim;  // destroyed after the lock is released
  std::lock_guard lock(mu_);
  auto it = cursors_.find(id);
  if (it == cursors_.end()) return false;
  victim = std::move(it->second.cursor);
  cursors_.erase(it);
  return true;
}

size_t CursorManager::size() {
  std::lock_guard lock(mu_);
  return cursors_.size();
}

size_t CursorManager::no_timeout_count() {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [id, e] : cursors_) n += e.no_timeout;
  return n;
}

void CursorManager::set_idle_timeout(std::chrono::milliseconds timeout) {
  {
    std::lock_guard lock(mu_);
    idle_timeout_ = timeout;
  }
  cv_.notify_all();  // the reaper recomputes its period
}

std::chrono::milliseconds CursorManager::idle_timeout() {
  std::lock_guard lock(mu_);
  return idle_timeout_;
}

int64_t CursorManager::timed_out() {
  std::lock_guard lock(mu_);
  return timed_out_;
}

size_t CursorManager::ReapIdle() {
  std::vector<std::shared_ptr<ServerCursor>> reaped;
  {
    std::lock_guard lock(mu_);
    ReapLocked(&reaped);
  }
  return reaped.size();
}

void CursorManager::ReapLocked(std::vector<std::shared_ptr<ServerCursor>>* reaped) {
  auto now = std::chrono::steady_clock::now();
  for (auto it = cursors_.begin(); it != cursors_.end();) {
    const Entry& e = it->second;
    if (!e.in_use && !e.no_timeout && now - e.last_used > idle_timeout_) {
      reaped->push_back(std::move(it->second.cursor));
      it = cursors_.erase(it);
      ++timed_out_;
    } else {
      if (!e.in_use && now - e.last_used > ServerCursor::kIdleRelease) {
        e.cursor->ReleaseIdleResources();
      }
      ++it;
    }
  }
}

}  // namespace eddy::wire
