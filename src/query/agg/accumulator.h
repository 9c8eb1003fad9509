// Internal: $group accumulators, also used as $setWindowFields window functions.
#pragma once
#include <memory>
#include <string>

#include "base/status.h"
#include "bson/value.h"
#include "query/expr/expression.h"

namespace eddy::query::agg_internal {

// Running state of one accumulator for one group (or one window).
class Accumulator {
 public:
  virtual ~Accumulator() = default;
  // Feeds one document (the context's $$CURRENT).
  virtual Status Process(EvalContext& ctx) = 0;
  // The result so far; does not change the state.
  virtual Result<MaybeValue> Finalize() const = 0;
  // Approximate bytes held (grows for $push/$addToSet/...).
  int64_t memory() const { return memory_; }

 protected:
  int64_t memory_ = 0;
};

// A parsed {$op: args} accumulator; immutable.
class AccumulatorSpec {
 public:
  virtual ~AccumulatorSpec() = default;
  // `first` is the context of the group's first document (for $firstN's n and the like).
  virtual Result<std::unique_ptr<Accumulator>> Create(EvalContext& first) const = 0;
  const std::string& op() const { return op_; }

 protected:
  std::string op_;
};
using AccumulatorSpecPtr = std::shared_ptr<const AccumulatorSpec>;

// Parses {$sum: expr} etc. `field` names the output field in messages. `for_window` selects
// the window-function variants' messages. Errors: 15952 unknown operator, plus each operator's.
Result<AccumulatorSpecPtr> ParseAccumulator(const std::string& op, const bson::Value& args,
                                            const ParseContext& vars, const std::string& field);
bool IsAccumulatorName(std::string_view op);

}  // namespace eddy::query::agg_internal
