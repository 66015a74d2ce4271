// Checkpoints (golden/checkpoint.h): the little-endian layout, the round trip, the run-config
// comparison, and that every corrupted or crafted file is refused with an InputError.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>

#include "golden/checkpoint.h"
#include "golden/int_network.h"

using namespace octet::golden;

namespace {

const char* kSmallNet = R"(network small
input  x   1x6x6
conv   c0  x   out=3 k=3 s=1 p=1
bnrelu a0  c0
conv   c1  a0  out=3 k=3 s=1 p=1
add    s1  c0 c1
bnrelu a1  s1
avgpool p  a1  global
linear fc  p   out=4
)";

const RunConfig kConfig = {{"seed", "7"}, {"batch", "16"}, {"schedule", "0:511:7:0.1"}};

std::string saved_bytes(const IntNetwork& net, const RunConfig& config = kConfig) {
  std::ostringstream out;
  net.save(out, config);
  return out.str();
}

uint64_t le_u64(const std::string& b, size_t at) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(b[at + i])} << (8 * i);
  return v;
}

// Loads `bytes` into `net` and compares its config with kConfig as octet-train does. Returns ""
// when the checkpoint is accepted, the error message when it is refused with an InputError
// (any other exception escapes and fails the test). A refused load must leave `net` untouched;
// a load refused only by the config comparison leaves the network reset to `fresh`.
std::string load_outcome(IntNetwork& net, const IntNetwork& fresh, const std::string& bytes) {
  std::istringstream in(bytes);
  const uint64_t before = net.state_digest();
  RunConfig config;
  try {
    config = net.load(in, "ck.bin");
  } catch (const octet::InputError& e) {
    EXPECT_EQ(net.state_digest(), before) << "a refused load changed the network: " << e.what();
    return e.what();
  }
  net = fresh;
  try {
    check_run_config(config, kConfig, "ck.bin", true);
    return "";
  } catch (const octet::InputError& e) {
    return e.what();
  }
}

// Seals `bytes` with a correct trailing checksum, as a crafted file would be.
std::string resealed(std::string bytes) {
  if (bytes.size() < 8) return bytes;
  const uint64_t h = fnv1a64(std::string_view(bytes).substr(0, bytes.size() - 8));
  for (int i = 0; i < 8; ++i) bytes[bytes.size() - 8 + i] = static_cast<char>(h >> (8 * i) & 0xFF);
  return bytes;
}

// One random corruption: flips of 1-8 bits, a truncation, an extension, or an overwritten run.
std::string corrupted(const std::string& good, std::mt19937_64& gen, size_t protect_tail, std::string& how) {
  std::string b = good;
  const size_t span = good.size() - protect_tail;
  const auto at = [&](size_t n) { return static_cast<size_t>(gen() % n); };
  switch (gen() % 4) {
    case 0: {
      const int flips = 1 + static_cast<int>(gen() % 8);
      how = std::to_string(flips) + " bit flips from byte";
      for (int i = 0; i < flips; ++i) {
        const size_t pos = at(span);
        b[pos] = static_cast<char>(b[pos] ^ (1 << (gen() % 8)));
        how += " " + std::to_string(pos);
      }
      break;
    }
    case 1: {
      // Mostly short cuts near the end and anywhere, including 0 bytes.
      const size_t keep = gen() % 2 ? at(good.size()) : good.size() - 1 - at(std::min<size_t>(64, good.size()));
      b.resize(keep);
      how = "truncated to " + std::to_string(keep) + " bytes";
      break;
    }
    case 2: {
      const size_t extra = 1 + at(64);
      for (size_t i = 0; i < extra; ++i) b += static_cast<char>(gen());
      how = "extended by " + std::to_string(extra) + " bytes";
      break;
    }
    default: {
      const size_t pos = at(span), len = 1 + at(16);
      for (size_t i = pos; i < std::min(pos + len, span); ++i) b[i] = static_cast<char>(gen());
      how = "overwrote up to " + std::to_string(len) + " bytes at " + std::to_string(pos);
      if (b == good) b[pos] = static_cast<char>(b[pos] ^ 1);
      break;
    }
  }
  return b;
}

}  // namespace

TEST(Checkpoint, HeaderIsLittleEndianWithVersionAndByteOrderMark) {
  const IntNetwork net(parse_network_text(kSmallNet, "small.net"), 7);
  const std::string b = saved_bytes(net, {{"seed", "7"}});
  const std::string expected_head = std::string("OCTETCKP") + std::string("\x02\x00\x00\x00", 4) +
                                    std::string("\x04\x03\x02\x01", 4) + std::string("\x01\x00\x00\x00", 4) +
                                    std::string("\x04\x00\x00\x00seed", 8) + std::string("\x01\x00\x00\x00" "7", 5) +
                                    std::string("\x05\x00\x00\x00small", 9);
  ASSERT_GE(b.size(), expected_head.size());
  EXPECT_EQ(b.substr(0, expected_head.size()), expected_head);
  // Network digest, then seed 7 and step 0 as little-endian u64.
  EXPECT_EQ(le_u64(b, expected_head.size()), network_digest(net.desc()));
  EXPECT_EQ(le_u64(b, expected_head.size() + 8), 7u);
  EXPECT_EQ(le_u64(b, expected_head.size() + 16), 0u);
  // The file ends with the state digest and the FNV-1a checksum of everything before it.
  EXPECT_EQ(le_u64(b, b.size() - 16), net.state_digest());
  EXPECT_EQ(le_u64(b, b.size() - 8), fnv1a64(std::string_view(b).substr(0, b.size() - 8)));
}

TEST(Checkpoint, Fnv1aMatchesPublishedVectors) {
  // Test vectors of the FNV reference (http://www.isthe.com/chongo/tech/comp/fnv/).
  EXPECT_EQ(fnv1a64(""), 0xcbf29ce484222325ull);
  EXPECT_EQ(fnv1a64("a"), 0xaf63dc4c8601ec8cull);
  EXPECT_EQ(fnv1a64("foobar"), 0x85944171f73967e8ull);
}

TEST(Checkpoint, RoundTripRestoresStateSeedAndConfig) {
  const NetworkDesc desc = parse_network_text(kSmallNet, "small.net");
  const IntNetwork saved(desc, 7);
  IntNetwork other(desc, 8);
  ASSERT_NE(other.state_digest(), saved.state_digest());
  std::istringstream in(saved_bytes(saved));
  EXPECT_EQ(other.load(in, "ck.bin"), kConfig);
  EXPECT_EQ(other.seed(), 7u);
  EXPECT_EQ(other.state_digest(), saved.state_digest());
  for (size_t p = 0; p < saved.states().size(); ++p)
    EXPECT_EQ(other.states()[p].master.data, saved.states()[p].master.data) << saved.params()[p].name;
}

TEST(Checkpoint, ConfigMismatchNamesTheFieldAndBothValues) {
  try {
    check_run_config({{"seed", "1"}, {"batch", "16"}}, {{"seed", "2"}, {"batch", "16"}}, "ck.bin", true);
    FAIL() << "accepted another seed";
  } catch (const CheckpointError& e) {
    EXPECT_STREQ(e.what(), "ck.bin: field 'seed': checkpoint has 1, command line has 2");
  }
  EXPECT_THROW(check_run_config({{"seed", "1"}}, {{"seed", "1"}, {"batch", "16"}}, "ck.bin", false), CheckpointError);
  EXPECT_THROW(check_run_config({{"seed", "1"}, {"lr", "3"}}, {{"seed", "1"}}, "ck.bin", true), CheckpointError);
  EXPECT_NO_THROW(check_run_config({{"seed", "1"}, {"lr", "3"}}, {{"seed", "1"}}, "ck.bin", false));
}

TEST(Checkpoint, AnotherNetworkOfTheSameNameIsRefused) {
  const IntNetwork saved(parse_network_text(kSmallNet, "small.net"), 7);
  std::string wider = kSmallNet;
  wider.replace(wider.find("out=4"), 5, "out=5");
  IntNetwork other(parse_network_text(wider, "wider.net"), 7);
  std::istringstream in(saved_bytes(saved));
  try {
    other.load(in, "ck.bin");
    FAIL() << "accepted a checkpoint of another structure";
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("ck.bin: field 'network_digest'"), std::string::npos) << e.what();
  }
}

TEST(Checkpoint, Version1FilesAreRefusedByName) {
  IntNetwork net(parse_network_text(kSmallNet, "small.net"), 7);
  std::istringstream in(std::string("OCTCKPT1") + std::string(64, '\0'));
  try {
    net.load(in, "old.ckpt");
    FAIL();
  } catch (const CheckpointError& e) {
    EXPECT_NE(std::string(e.what()).find("old.ckpt: field 'magic': format version 1"), std::string::npos) << e.what();
  }
}

// Random corruptions of a real checkpoint: every one must be refused with an InputError and
// leave the network as it was. Then the same with the checksum recomputed (a crafted file):
// the parser's bounds, the network checks, the state digest and the config comparison must
// catch every one of those too.
TEST(Checkpoint, EveryRandomCorruptionIsRefused) {
  const NetworkDesc desc = parse_network_text(kSmallNet, "small.net");
  const std::string good = saved_bytes(IntNetwork(desc, 7));
  // A new seed each run (OCTET_SEED=<n> repeats one).
  const char* env = std::getenv("OCTET_SEED");
  const auto seed = env ? static_cast<unsigned>(std::strtoul(env, nullptr, 10)) : std::random_device{}();
  std::printf("corruption seed=%u (%zu-byte checkpoint; OCTET_SEED=%u repeats it)\n", seed, good.size(), seed);
  std::mt19937_64 gen(seed);
  const IntNetwork fresh(desc, 9);
  IntNetwork net = fresh;
  ASSERT_EQ(load_outcome(net, fresh, good), "");  // the intact file is accepted
  for (bool reseal : {false, true}) {
    for (int trial = 0; trial < 400; ++trial) {
      std::string how;
      // A resealed file keeps its checksum bytes as computed: corrupt only what they cover.
      std::string bad = corrupted(good, gen, reseal ? 8 : 0, how);
      if (reseal) bad = resealed(std::move(bad));
      if (bad == good) continue;
      const std::string outcome = load_outcome(net, fresh, bad);
      EXPECT_NE(outcome, "") << (reseal ? "resealed, " : "") << how << ": accepted (seed " << seed << ")";
      EXPECT_EQ(outcome.find('\n'), std::string::npos) << outcome;
      EXPECT_EQ(outcome.rfind("ck.bin: field '", 0), 0u) << outcome;
    }
  }
}

TEST(Checkpoint, ResumeEpochIsAWholeEpochWithinTheRun) {
  EXPECT_EQ(resume_epoch(0, 10, 3, "ck.bin"), 0);
  EXPECT_EQ(resume_epoch(30, 10, 3, "ck.bin"), 3);  // the run is complete: nothing left to train
  EXPECT_EQ(resume_epoch(20, 10, 3, "ck.bin"), 2);
  const auto message = [](uint64_t step, int64_t spe, int epochs) {
    try {
      resume_epoch(step, spe, epochs, "ck.bin");
    } catch (const CheckpointError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_EQ(message(25, 10, 3), "ck.bin: field 'step': 25 is not at an epoch boundary (10 steps per epoch)");
  EXPECT_EQ(message(40, 10, 3), "ck.bin: field 'step': 40 is the end of epoch 4, beyond --epochs 3");
  // A huge counter: 2^63 steps at 1 or 2^31 steps per epoch is no int epoch (it once became
  // epoch -2147483648 and trained forever).
  EXPECT_EQ(message(uint64_t{1} << 63, 1, 1000),
            "ck.bin: field 'step': 9223372036854775808 is the end of epoch 9223372036854775808, beyond --epochs 1000");
  EXPECT_EQ(message(uint64_t{1} << 62, int64_t{1} << 31, 1000),
            "ck.bin: field 'step': 4611686018427387904 is the end of epoch 2147483648, beyond --epochs 1000");
  EXPECT_THROW(resume_epoch(0, 0, 3, "ck.bin"), std::invalid_argument);
}
