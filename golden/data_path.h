// Where the programs find Octet's data files (networks/, topologies/, model/energy/, the plot
// scripts under tools/): relative to the running executable, so that an installed tree can be
// moved and a build tree works without a compiled-in source path.
//   installed:  <prefix>/bin/octet-x  ->  <prefix>/share/octet/<relative>
//   build tree: <build>/bin/octet-x   ->  <build>/share/octet/<relative>, whose entries are
//               links into the source tree (made at configure time, see CMakeLists.txt)
#pragma once

#include <string>
#include <string_view>

namespace octet {

// The data directory: <directory of /proc/self/exe>/../share/octet. Not checked for existence:
// a missing file is reported by whoever opens it, naming the full path that was tried.
std::string data_dir();

// data_dir() + "/" + relative, e.g. data_path("networks/small_resnet.net").
std::string data_path(std::string_view relative);

}  // namespace octet
