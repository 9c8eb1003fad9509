// Internal to wire/commands: the database as seen by aggregation stages that read or write
// other collections ($lookup, $out, $merge), shared by aggregate and change streams.
#pragma once
#include <memory>
#include <string>

#include "query/agg/pipeline.h"
#include "query/exec/database.h"

namespace eddy::wire {

// $out/$merge writes check the target collection's validator unless
// bypass_document_validation (the aggregate command's bypassDocumentValidation).
std::shared_ptr<query::AggSource> MakeDatabaseSource(query::Database* db, std::string db_name,
                                                     bool bypass_document_validation = false);

}  // namespace eddy::wire
