// Dotted field paths ("a.b.0.c"), shared by the matcher, projection and update code.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace eddy::query {

// "a.b.c" -> {"a", "b", "c"}; empty components are kept ("a..b" -> {"a", "", "b"}).
std::vector<std::string> SplitPath(std::string_view path);

}  // namespace eddy::query
