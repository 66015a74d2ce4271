// The golden reference behind each unit module (model/unit_backends.h): values from the
// golden kernels, no measured cycles. The default backends of every model run.
#pragma once

#include "model/unit_backends.h"

namespace octet::model {

class GoldenArrayBackend : public ArrayBackend {
 public:
  ArrayTileOutcome run_tile(const ArrayTileJob& job) override;
};

class GoldenShiftQuantizerBackend : public ShiftQuantizerBackend {
 public:
  explicit GoldenShiftQuantizerBackend(int threads = 1) : threads_(threads) {}
  SqOutcome run(const SqJob& job) override;

 private:
  int threads_;
};

class GoldenBnBackend : public BnBackend {
 public:
  explicit GoldenBnBackend(int threads = 1) : threads_(threads) {}
  BnForwardOutcome forward(const BnForwardJob& job) override;
  BnBackwardOutcome backward(const BnBackwardJob& job) override;

 private:
  int threads_;
};

class GoldenOptimizerBackend : public OptimizerBackend {
 public:
  OptOutcome run(const OptJob& job) override;
};

class GoldenVectorUnitBackend : public VectorUnitBackend {
 public:
  explicit GoldenVectorUnitBackend(int threads = 1) : threads_(threads) {}
  VuOutcome run(const VuJob& job) override;

 private:
  int threads_;
};

// `b` with every null member replaced by its golden reference.
UnitBackends with_golden_defaults(UnitBackends b, int threads);

}  // namespace octet::model
