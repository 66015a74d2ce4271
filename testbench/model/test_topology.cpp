// SCALE-Sim topology CSVs: hand cases of both formats, and every malformed case with its
// exact one-line message (file, line, field).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "model/topology.h"

using namespace octet::model;

using namespace std::string_literals;

namespace {

const std::string kConvHeader =
    "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n";

std::string error_of(const std::string& text, const std::string& format = "auto") {
  try {
    parse_scalesim_topology_text(text, "t.csv", format);
  } catch (const TopologyError& e) {
    return e.what();
  }
  return "(no error)";
}

std::string conv_row_error(const std::string& row) { return error_of(kConvHeader + row + "\n"); }

}  // namespace

TEST(Topology, ConvRowsWithTrailingCommaOptionalStrideWidthBlankLinesAndDepthwise) {
  const Topology t = parse_scalesim_topology_text(kConvHeader +
                                                      "Conv1, 230, 230, 7, 7, 3, 64, 2,\n"
                                                      "\n"
                                                      "CB2a_DP, 56, 58, 3, 3, 64, 64, 1, 2,\n"
                                                      "last,8,8,1,1,4,4,1\n",
                                                  "t.csv");
  ASSERT_EQ(t.conv.size(), 3u);
  EXPECT_TRUE(t.gemm.empty());
  EXPECT_EQ(t.origin, "t.csv");
  const ConvLayerSpec& a = t.conv[0];
  EXPECT_EQ(a.name, "Conv1");
  EXPECT_EQ(a.line, 2);
  EXPECT_EQ(a.ifmap_h, 230);
  EXPECT_EQ(a.filter_w, 7);
  EXPECT_EQ(a.channels, 3);
  EXPECT_EQ(a.num_filter, 64);
  EXPECT_EQ(a.stride_h, 2);
  EXPECT_EQ(a.stride_w, 2);  // no stride-width column: same as Strides
  EXPECT_FALSE(a.depthwise);
  EXPECT_EQ(a.ofmap_h(), 113);  // ceil((230 - 7 + 2) / 2) = ceil(112.5), SCALE-Sim's formula
  const ConvLayerSpec& b = t.conv[1];
  EXPECT_EQ(b.line, 4);
  EXPECT_TRUE(b.depthwise);
  EXPECT_EQ(b.stride_h, 1);
  EXPECT_EQ(b.stride_w, 2);
  EXPECT_EQ(b.ofmap_h(), 54);  // (56 - 3 + 1) / 1
  EXPECT_EQ(b.ofmap_w(), 29);  // ceil((58 - 3 + 2) / 2) = ceil(28.5)
  EXPECT_EQ(t.conv[2].name, "last");
  EXPECT_EQ(t.conv[2].line, 5);
  EXPECT_EQ(t.conv[2].ofmap_w(), 8);
}

TEST(Topology, GemmFormatByHeaderOrByName) {
  const std::string text = "Layer Name, M, N, K,\nfc, 4, 1000, 512,\nproj,49,2048,1024,\n";
  for (const char* format : {"auto", "gemm"}) {
    const Topology t = parse_scalesim_topology_text(text, "g.csv", format);
    ASSERT_EQ(t.gemm.size(), 2u) << format;
    EXPECT_TRUE(t.conv.empty());
    EXPECT_EQ(t.gemm[0].name, "fc");
    EXPECT_EQ(t.gemm[0].m, 4);
    EXPECT_EQ(t.gemm[0].n, 1000);
    EXPECT_EQ(t.gemm[0].k, 512);
    EXPECT_EQ(t.gemm[1].line, 3);
  }
}

TEST(Topology, CrlfLinesAndExplicitConvFormatWithAnyHeader) {
  const Topology t = parse_scalesim_topology_text("name,h,w,fh,fw,c,n,s,\r\nl1, 5, 5, 3, 3, 2, 4, 1,\r\n", "t.csv", "conv");
  ASSERT_EQ(t.conv.size(), 1u);
  EXPECT_EQ(t.conv[0].num_filter, 4);
}

TEST(TopologyErrors, MissingColumn) {
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, 4, 4,"), "t.csv:2: field 'Strides': missing column (row has 7 of 8 columns)");
  EXPECT_EQ(conv_row_error("a, 8,"), "t.csv:2: field 'IFMAP Width': missing column (row has 2 of 8 columns)");
  EXPECT_EQ(error_of("Layer Name, M, N, K,\nfc, 4, 10,\n"), "t.csv:2: field 'K': missing column (row has 3 of 4 columns)");
}

TEST(TopologyErrors, ExtraColumn) {
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, 4, 4, 1, 1, 7,"),
            "t.csv:2: field 'column 10': unexpected extra column '7' (at most 9 columns)");
}

TEST(TopologyErrors, NonInteger) {
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, x4, 4, 1,"), "t.csv:2: field 'Channels': 'x4' is not an integer");
  EXPECT_EQ(conv_row_error("a, 8, 8, 3.5, 3, 4, 4, 1,"), "t.csv:2: field 'Filter Height': '3.5' is not an integer");
  EXPECT_EQ(conv_row_error("a, 8, , 3, 3, 4, 4, 1,"), "t.csv:2: field 'IFMAP Width': '' is not an integer");
  EXPECT_EQ(error_of("Layer Name, M, N, K,\nfc, 4, ten, 5,\n"), "t.csv:2: field 'N': 'ten' is not an integer");
}

TEST(TopologyErrors, ZeroNegativeAndHugeSizes) {
  EXPECT_EQ(conv_row_error("a, 0, 8, 3, 3, 4, 4, 1,"), "t.csv:2: field 'IFMAP Height': must be positive, got 0");
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, 4, -4, 1,"), "t.csv:2: field 'Num Filter': must be positive, got -4");
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, 4, 4, 1, 0,"), "t.csv:2: field 'Stride Width': must be positive, got 0");
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, 4, 99999999999, 1,"),
            "t.csv:2: field 'Num Filter': 99999999999 is larger than 2147483648");
  EXPECT_EQ(error_of("Layer Name, M, N, K,\nfc, 0, 1, 5,\n"), "t.csv:2: field 'M': must be positive, got 0");
}

TEST(TopologyErrors, StrideZero) {
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, 4, 4, 0,"), "t.csv:2: field 'Strides': must be positive, got 0");
}

TEST(TopologyErrors, FilterLargerThanIfmap) {
  EXPECT_EQ(conv_row_error("a, 2, 8, 3, 3, 4, 4, 1,"), "t.csv:2: field 'Filter Height': 3 is larger than IFMAP Height 2");
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 9, 4, 4, 1,"), "t.csv:2: field 'Filter Width': 9 is larger than IFMAP Width 8");
}

TEST(TopologyErrors, EmptyLayerName) {
  EXPECT_EQ(conv_row_error(", 8, 8, 3, 3, 4, 4, 1,"), "t.csv:2: field 'Layer name': empty layer name");
}

TEST(TopologyErrors, LineNumbersCountBlankLines) {
  EXPECT_EQ(error_of(kConvHeader + "a, 8, 8, 3, 3, 4, 4, 1,\n\n\nb, 8, 8, 3, 3, 4, 4, s,\n"),
            "t.csv:5: field 'Strides': 's' is not an integer");
}

TEST(TopologyErrors, UnknownFormat) {
  EXPECT_EQ(error_of(kConvHeader, "fc"), "t.csv:0: field 'format': unknown topology format 'fc' (conv, gemm or auto)");
}

TEST(TopologyErrors, HeaderProblems) {
  EXPECT_EQ(error_of("\nl1, 5, 5, 3, 3, 2, 4, 1,\n"),
            "t.csv:2: field 'header': the first line is a layer row; SCALE-Sim skips the first line, so add a header "
            "line");
  EXPECT_EQ(error_of("name, rows, cols,\nl1, 5, 5, 3, 3, 2, 4, 1,\n"),
            "t.csv:1: field 'header': cannot tell conv from gemm format from 'name, rows, cols,'; give the format "
            "(conv or gemm)");
  EXPECT_EQ(error_of(kConvHeader + "\n"), "t.csv:2: field 'Layer name': no layer rows after the header");
  EXPECT_EQ(error_of(""), "t.csv:0: field 'Layer name': no layer rows after the header");
}

TEST(TopologyErrors, MissingFile) {
  try {
    parse_scalesim_topology("/nonexistent/octet/x.csv");
    FAIL() << "no error";
  } catch (const TopologyError& e) {
    EXPECT_EQ(std::string(e.what()), "/nonexistent/octet/x.csv:0: field 'file': cannot open: No such file or directory");
  }
}

// A directory used to read as an empty file ("no layer rows after the header").
TEST(TopologyErrors, DirectoryIsNamedAsOne) {
  try {
    parse_scalesim_topology("/tmp");
    FAIL() << "no error";
  } catch (const TopologyError& e) {
    EXPECT_EQ(std::string(e.what()), "/tmp:0: field 'file': is a directory, not a file");
  }
}

// Bytes outside printable ASCII are echoed as \xNN, a NUL does not cut the line, a 100 kB
// number is cut with its length; layer names are printable ASCII (they reach JSON reports).
TEST(TopologyErrors, TokensAreEchoedPrintablyAndNamesArePrintableAscii) {
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, \x01\xff\x1b[2J, 4, 1,"),
            "t.csv:2: field 'Channels': '\\x01\\xFF\\x1B[2J' is not an integer");
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, 4\0, 4, 1,"s),
            "t.csv:2: field 'Channels': '4\\x00' is not an integer");
  EXPECT_EQ(conv_row_error("a, 8, 8, 3, 3, " + std::string(100000, '9') + ", 4, 1,"),
            "t.csv:2: field 'Channels': '" + std::string(48, '9') + "... (100000 bytes)' is not an integer");
  EXPECT_EQ(conv_row_error("caf\xe9, 8, 8, 3, 3, 4, 4, 1,"),
            "t.csv:2: field 'Layer name': 'caf\\xE9' is not printable ASCII");
  EXPECT_EQ(conv_row_error(std::string(300, 'n') + ", 8, 8, 3, 3, 4, 4, 1,"),
            "t.csv:2: field 'Layer name': '" + std::string(48, 'n') + "... (300 bytes)' is longer than 256 characters");
  EXPECT_EQ(conv_row_error(std::string(256, 'n') + ", 8, 8, 3, 3, 4, 4, 1,"), "(no error)");
}

// Every size is at most 2^31, so products of three or more leave int64 unless checked; the
// model multiplies them (tensor sizes, MACs). Each row is refused at its line.
TEST(TopologyErrors, ProductsThatLeaveInt64AreRefused) {
  const std::string big = "2147483648";
  // ifmap 2^31 x 2^31 x channels 4: 2^62 x 4.
  EXPECT_EQ(conv_row_error("a, " + big + ", " + big + ", 1, 1, 4, 1, 1,"),
            "t.csv:2: field 'Channels': 4611686018427387904 x 4 does not fit in 64 bits");
  // MACs: ofmap 2^31 x 2^31, filter 1 x 1 x 2, 2 filters.
  EXPECT_EQ(conv_row_error("a, " + big + ", " + big + ", 1, 1, 1, 2, 1,"),
            "t.csv:2: field 'Num Filter': 4611686018427387904 x 2 does not fit in 64 bits");
  EXPECT_EQ(error_of("Layer Name, M, N, K,\nfc, " + big + ", " + big + ", 2,\n"),
            "t.csv:2: field 'K': 4611686018427387904 x 2 does not fit in 64 bits");
  // The largest products that fit are accepted: 2^31 x 2^31 x 1 = 2^62.
  EXPECT_EQ(error_of("Layer Name, M, N, K,\nfc, " + big + ", " + big + ", 1,\n"), "(no error)");
}

// Random corruptions of valid rows (seeded, printed): the parser either accepts a row whose
// sizes are all valid, or throws one TopologyError line "t.csv:<line>: field '<f>': <msg>".
// Matches ^t\.csv:[0-9]+: field '[^'\n]+': [^\n]+$ (by hand: GCC 12 warns inside std::regex under
// the sanitizers, -Wmaybe-uninitialized in libstdc++'s regex automaton).
static bool is_one_line_error(const std::string& m) {
  const std::string file = "t.csv:", field = ": field '", sep = "': ";
  if (m.rfind(file, 0) != 0) return false;
  size_t i = file.size();
  const size_t digits = i;
  while (i < m.size() && m[i] >= '0' && m[i] <= '9') ++i;
  if (i == digits || m.compare(i, field.size(), field) != 0) return false;
  i += field.size();
  const size_t name = i;
  while (i < m.size() && m[i] != '\'' && m[i] != '\n') ++i;
  if (i == name || m.compare(i, sep.size(), sep) != 0) return false;
  i += sep.size();
  return i < m.size() && m.find('\n', i) == std::string::npos;
}

TEST(TopologyErrors, RandomCorruptionsAreAcceptedValidOrOneLineErrors) {
  const uint64_t seed = 20261127;
  std::mt19937_64 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  const std::vector<std::string> tokens = {"", "0", "-3", "x", "1.5", "99999999999", " 7 ", "3", "1", "64", "DP_a", ",", "\t"};
  int accepted = 0, rejected = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<std::string> cells = {"L", "8", "8", "3", "3", "4", "4", "1"};
    if (rng() % 2) cells.push_back("2");
    const int edits = 1 + static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t i = rng() % cells.size();
      switch (rng() % 3) {
        case 0: cells[i] = tokens[rng() % tokens.size()]; break;
        case 1: cells.erase(cells.begin() + static_cast<long>(i)); break;
        default: cells.insert(cells.begin() + static_cast<long>(i), tokens[rng() % tokens.size()]); break;
      }
      if (cells.empty()) cells.push_back("L");
    }
    std::string row;
    for (const auto& c : cells) row += c + ",";
    try {
      const Topology t = parse_scalesim_topology_text(kConvHeader + row + "\n", "t.csv");
      ASSERT_EQ(t.conv.size(), 1u) << row;
      const ConvLayerSpec& s = t.conv[0];
      EXPECT_FALSE(s.name.empty());
      for (int64_t v : {s.ifmap_h, s.ifmap_w, s.filter_h, s.filter_w, s.channels, s.num_filter, s.stride_h, s.stride_w})
        EXPECT_GT(v, 0) << row;
      EXPECT_LE(s.filter_h, s.ifmap_h) << row;
      EXPECT_LE(s.filter_w, s.ifmap_w) << row;
      EXPECT_GE(s.ofmap_h(), 1) << row;
      ++accepted;
    } catch (const TopologyError& e) {
      EXPECT_TRUE(is_one_line_error(e.what())) << row << " -> " << e.what();
      ++rejected;
    }
  }
  EXPECT_GT(accepted, 0);
  EXPECT_GT(rejected, 0);
}
