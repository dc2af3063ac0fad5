// Tuning profiles: parsing and the CPU match, every compiled-in profile valid for the CPU it
// names, the shape classes, and the dispatcher following a profile.
#include "kernels/tuning/tuning.h"

#include <string>

#include "gtest/gtest.h"
#include "kernels/gemm/gemm.h"
#include "kernels/gemm/gemm_config.h"
#include "nlohmann/json.hpp"

namespace klab::kernels {
namespace {

CpuFeatures Cpu(const std::string& vendor, int family, int model) {
  CpuFeatures c;
  c.vendor = vendor;
  c.family = family;
  c.model = model;
  c.brand = "test CPU";
  return c;
}

const char kProfile[] = R"({
  "schema": "kernel-lab/tuning/v1", "machine": "amd-zen4-2c",
  "cpu": {"vendor": "AuthenticAMD", "family": 25, "models": [17, 97]},
  "gemm": {"NN/m65+/n512/k512": {"serial": "packed_8x32__avx512", "threaded": "packed_mt_8x32__avx512",
                            "score": 1.0}},
  "linear": {"threads_from_mnk": 32768}, "decode": {"threads_above_weight_bytes": 2000000},
  "blocking": {"8x32": {"mc": 96, "kc": 256, "nc": 2048}}})";

TEST(Tuning, AProfileParsesForItsCpuOnly) {
  auto p = ParseTuningProfile(kProfile, "test.json", Cpu("AuthenticAMD", 25, 97));
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->machine, "amd-zen4-2c");
  EXPECT_EQ(p->gemm.at("NN/m65+/n512/k512").threaded, "packed_mt_8x32__avx512");
  EXPECT_EQ(p->linear_threads_from_mnk, 32768);
  EXPECT_EQ(p->decode_threads_above_weight_bytes, 2000000);
  EXPECT_EQ(p->blocking.at("8x32").kc, 256);
  auto other = ParseTuningProfile(kProfile, "test.json", Cpu("GenuineIntel", 6, 143));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(other.status().message().find("GenuineIntel family 6 model 143"), std::string::npos)
      << other.status();
  EXPECT_FALSE(ParseTuningProfile(kProfile, "t", Cpu("AuthenticAMD", 25, 1)).ok());  // model
}

TEST(Tuning, DamagedProfilesAreRefusedNamingTheField) {
  const CpuFeatures cpu = Cpu("AuthenticAMD", 25, 17);
  EXPECT_FALSE(ParseTuningProfile("{", "t", cpu).ok());
  EXPECT_FALSE(ParseTuningProfile(R"({"schema": "other"})", "t", cpu).ok());
  auto j = nlohmann::json::parse(kProfile);
  j["gemm"]["NN/m65+/n512/k512"].erase("threaded");
  auto p = ParseTuningProfile(j.dump(), "t", cpu);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("gemm.NN/m65+/n512/k512"), std::string::npos) << p.status();
  j = nlohmann::json::parse(kProfile);
  j["cpu"].erase("models");
  EXPECT_FALSE(ParseTuningProfile(j.dump(), "t", cpu).ok());
  j = nlohmann::json::parse(kProfile);
  j["linear"]["threads_from_mnk"] = -1;
  EXPECT_FALSE(ParseTuningProfile(j.dump(), "t", cpu).ok());
  j = nlohmann::json::parse(kProfile);
  j["decode"]["threads_above_weight_bytes"] = "big";
  EXPECT_FALSE(ParseTuningProfile(j.dump(), "t", cpu).ok());
  j = nlohmann::json::parse(kProfile);
  j["blocking"]["8x32"]["kc"] = 0;
  p = ParseTuningProfile(j.dump(), "t", cpu);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("blocking.8x32.kc"), std::string::npos) << p.status();
}

// Each profile in kernels/tuning/ parses for the CPU it names and chooses, per class, a serial
// variant that is serial and a threaded one of the same family (or the serial one): the models'
// results keep the same bits on 1 and 2 threads.
TEST(Tuning, EveryCompiledInProfileIsValid) {
  for (const auto& [name, json] : CompiledInProfiles()) {
    SCOPED_TRACE(std::string(name));
    const auto j = nlohmann::json::parse(json);
    const CpuFeatures cpu = Cpu(j["cpu"]["vendor"], j["cpu"]["family"], j["cpu"]["models"][0]);
    auto p = ParseTuningProfile(json, name, cpu);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_FALSE(p->gemm.empty());
    for (const auto& [shape_class, choice] : p->gemm) {
      EXPECT_TRUE(IsGemmShapeClass(shape_class)) << shape_class;
      const GemmVariant* serial = FindGemmVariant(choice.serial);
      const GemmVariant* threaded = FindGemmVariant(choice.threaded);
      ASSERT_NE(serial, nullptr) << shape_class << " " << choice.serial;
      ASSERT_NE(threaded, nullptr) << shape_class << " " << choice.threaded;
      EXPECT_EQ(serial->max_threads, 1) << shape_class;
      const std::string family = choice.serial.substr(0, choice.serial.find('_'));
      EXPECT_EQ(choice.threaded.rfind(family, 0), 0u) << shape_class << ": " << choice.threaded;
    }
  }
}

TEST(Tuning, ShapeClasses) {
  auto cls = [](Trans ta, Trans tb, int64_t m, int64_t n, int64_t k) {
    return GemmShapeClass({ta, tb, m, n, k});
  };
  EXPECT_EQ(cls(Trans::kNo, Trans::kNo, 512, 512, 512), "NN/m65+/n512/k512");
  EXPECT_EQ(cls(Trans::kNo, Trans::kYes, 1, 1024, 256), "NT/m1/n1024/k256");
  EXPECT_EQ(cls(Trans::kNo, Trans::kYes, 8, 384, 128), "NT/m2-16/n512/k128");
  EXPECT_EQ(cls(Trans::kNo, Trans::kYes, 8, 128, 384), "NT/m2-16/n128/k512");
  EXPECT_EQ(cls(Trans::kYes, Trans::kNo, 64, 64, 64), "TN/m17-64/n128/k128");
  EXPECT_EQ(cls(Trans::kYes, Trans::kYes, 100, 4096, 8), "TT/m65+/nbig/k128");
  EXPECT_TRUE(IsGemmShapeClass("TT/m65+/nbig/k128"));
  EXPECT_FALSE(IsGemmShapeClass("NN/m65+/s512"));
}

// With a profile in force the dispatcher takes its choice for the class (serial on one thread),
// and the analytic default elsewhere; a profile naming a threaded variant as serial is refused.
TEST(Tuning, DispatcherFollowsTheProfile) {
  const std::string variant = CpuSupports(Isa::kAvx512) ? "regblock_8x32__avx512"
                              : CpuSupports(Isa::kAvx2) ? "regblock_6x16__avx2" : "loop_ikj";
  TuningProfile p;
  p.source = "test";
  p.gemm["NN/m65+/n512/k512"] = {variant, variant};
  ASSERT_TRUE(ValidateGemmTuning(p).ok());
  const SgemmArgs in_class{Trans::kNo, Trans::kNo, 300, 300, 300};
  const SgemmArgs elsewhere{Trans::kNo, Trans::kNo, 2000, 2000, 2000};
  SetTuningForTesting(nullptr);
  const std::string_view analytic_elsewhere = ChooseGemmVariant(elsewhere).name;
  SetTuningForTesting(&p);
  EXPECT_EQ(ChooseGemmVariant(in_class).name, variant);
  EXPECT_EQ(ChooseSerialGemmVariant(in_class).name, variant);
  EXPECT_EQ(ChooseGemmVariant(elsewhere).name, analytic_elsewhere);  // a class it does not name
  RestoreTuning();
  if (CpuSupports(Isa::kAvx512)) {
    p.gemm["NN/m65+/n512/k512"] = {"packed_mt_8x32__avx512", "packed_mt_8x32__avx512"};
    EXPECT_FALSE(ValidateGemmTuning(p).ok());
  }
  p.gemm["NN/m65+/n512/k512"] = {"no_such_variant", "no_such_variant"};
  EXPECT_FALSE(ValidateGemmTuning(p).ok());
  p.gemm.clear();
  p.gemm["NN/m65+/s512"] = {variant, variant};  // the classes of an older build
  EXPECT_FALSE(ValidateGemmTuning(p).ok());
}

// A profile's blocking for a micro-kernel replaces the analytic one, rounded to its tile; an
// override (the sweep's --blocking) still wins.
TEST(Tuning, BlockingFollowsTheProfile) {
  TuningProfile p;
  p.source = "test";
  p.blocking["8x32"] = {100, 256, 2050};
  SetTuningForTesting(&p);
  const Blocking b = EffectiveBlocking(8, 32);
  EXPECT_EQ(b.mc, 96);
  EXPECT_EQ(b.kc, 256);
  EXPECT_EQ(b.nc, 2048);
  {
    const ScopedBlockingOverride scoped(Blocking{16, 64, 64});
    EXPECT_EQ(EffectiveBlocking(8, 32).kc, 64);
  }
  SetTuningForTesting(nullptr);
  const CpuFeatures& f = GetCpuFeatures();
  EXPECT_EQ(EffectiveBlocking(8, 32).kc, DeriveBlocking(8, 32, f.l1d_bytes, f.l2_bytes, f.l3_bytes).kc);
  RestoreTuning();
}

}  // namespace
}  // namespace klab::kernels
