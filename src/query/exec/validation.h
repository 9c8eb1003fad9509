// Collection validators (create/collMod options validator, validationLevel, validationAction),
// with mongod's semantics:
//   - validator: a query filter (any operator the matcher supports, $jsonSchema included);
//   - validationLevel: "strict" (default: every insert and update), "moderate" (updates of
//     documents that already fail are not checked), "off";
//   - validationAction: "error" (default: the write fails with 121 DocumentValidationFailure)
//     or "warn" (the write goes through);
//   - bypassDocumentValidation on the command skips the check.
// A failure's Status carries errInfo {failingDocumentId, details} as its extra info, details
// shaped as mongod's doc_validation_error (operatorName, specifiedAs, reason, consideredValue,
// clausesNotSatisfied, schemaRulesNotSatisfied, ...).
#pragma once
#include <memory>
#include <optional>

#include "base/status.h"
#include "bson/value.h"
#include "query/match/matcher.h"
#include "storage/catalog.h"

namespace eddy::query {

inline constexpr ErrorCode kDocumentValidationFailure = static_cast<ErrorCode>(121);

// Checks the validation options of a create or collMod command (only those fields are read):
// the validator must be a document that compiles (no $where/$text/$near..., as mongod), the
// level one of strict/moderate/off, the action one of error/warn. Errors are mongod's.
Status CheckValidationOptions(const bson::Document& options);

// The validator of a collection, compiled once per write command.
class CollectionValidator {
 public:
  // nullopt when the collection has no validator, its level is off, or `bypass`.
  static Result<std::optional<CollectionValidator>> ForCollection(const storage::CollectionInfo& c,
                                                                  bool bypass);

  // OK or 121 with errInfo. `before`: the document being updated (nullptr for inserts and
  // upserts); with validationLevel moderate an update of a document that fails already is
  // not checked. With validationAction warn a failure is not an error.
  Status Check(const bson::Document* before, const bson::Document& after) const;

  // mongod's details of why `doc` fails `validator` (which it must fail).
  static bson::Document Explain(const bson::Document& validator, const bson::Document& doc);

 private:
  std::shared_ptr<const Matcher> matcher_;
  bson::Document validator_;
  bool moderate_ = false;
  bool warn_ = false;
};

}  // namespace eddy::query
