// The lab's GPT-2 trainer and PyTorch (perf/pytorch_train_peer.py), given the same initial
// weights (the trainer's own model file) and the same batches, agree on the loss at steps 1-4
// to 1e-4 relative: the model, the loss and AdamW (decoupled decay on the matrices only) are the
// same. After step 1 the losses diverge only by float rounding amplified by three updates of a
// small learning rate (1e-3): measured 0 to 1.1e-7 relative. Skips, saying why, when PyTorch is
// absent; CI has it (tools/setup.sh).
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "models/gpt2.h"
#include "models/gpt2_train.h"
#include "perf/pytorch_peer.h"

namespace klab::perf {
namespace {

const char* g_argv0 = "";

TEST(TrainPeerTest, PyTorchAgreesOnTheLossAtStepsOneToFour) {
  const models::Gpt2Config config{64, 16, 32, 2, 2};
  constexpr int kBatch = 4, kSeq = 16;
  auto model = models::Gpt2Model::Create(config, 1);
  ASSERT_TRUE(model.ok());
  auto trainer = models::Gpt2Trainer::Create(**model, kBatch, kSeq);
  ASSERT_TRUE(trainer.ok());
  const std::string file = (std::filesystem::temp_directory_path() /
                            ("klab_train_peer_" + std::to_string(getpid()) + ".bin")).string();
  {
    std::ofstream out(file, std::ios::binary);
    const std::string bytes = (*trainer)->FileBytes();
    out.write(bytes.data(), bytes.size());
  }
  const std::string script = PyTorchPeerScript(g_argv0, "pytorch_train_peer.py");
  ASSERT_FALSE(script.empty()) << "perf/pytorch_train_peer.py is not in the runfiles";
  auto peer = PyTorchPeer::Start("/usr/bin/python3", script, file, 1, {});
  std::filesystem::remove(file);
  if (!peer.ok() && peer.status().code() == absl::StatusCode::kFailedPrecondition) {
    GTEST_SKIP() << "PyTorch peer not available: " << peer.status().message();
  }
  ASSERT_TRUE(peer.ok()) << peer.status();
  const models::AdamW opt{.lr = 1e-3f, .weight_decay = 0.1f};
  auto setup = (*peer)->Call({{"cmd", "gpt"}, {"batch", kBatch}, {"seq", kSeq}, {"lr", opt.lr},
                              {"beta1", opt.beta1}, {"beta2", opt.beta2}, {"eps", opt.eps},
                              {"weight_decay", opt.weight_decay}});
  ASSERT_TRUE(setup.ok()) << setup.status();
  std::vector<int> in(kBatch * kSeq), target(kBatch * kSeq);
  for (int step = 1; step <= 4; ++step) {
    for (int i = 0; i < kBatch * kSeq; ++i) {
      in[i] = (i * 7 + step * 13) % config.vocab;
      target[i] = (i * 11 + step * 5 + 3) % config.vocab;
    }
    const absl::StatusOr<float> ours = (*trainer)->Step(in.data(), target.data(), opt, step);
    ASSERT_TRUE(ours.ok()) << ours.status();
    auto theirs = (*peer)->Call({{"cmd", "gpt_step"}, {"inputs", in}, {"targets", target}});
    ASSERT_TRUE(theirs.ok()) << theirs.status();
    const double t = (*theirs)["loss"].get<double>();
    EXPECT_NEAR(*ours, t, 1e-4 * std::fabs(t)) << "step " << step;
    std::printf("step %d: ours %.7f, PyTorch %.7f, relative difference %.2g\n", step, *ours, t,
                std::fabs(*ours - t) / std::fabs(t));
  }
}

}  // namespace
}  // namespace klab::perf

int main(int argc, char** argv) {
  klab::perf::g_argv0 = argv[0];
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
