// What a training run will allocate, estimated from the description and the batch size before
// anything is allocated, so that an impossible size is a one-line error instead of bad_alloc or
// a machine swapping for minutes. Every product and sum saturates at INT64_MAX (never wraps).
#pragma once

#include <cstdint>
#include <string>

#include "golden/network_desc.h"

namespace octet::golden {

// a*b and a+b for non-negative operands, saturating at INT64_MAX.
int64_t saturating_mul(int64_t a, int64_t b);
int64_t saturating_add(int64_t a, int64_t b);

struct TrainingMemory {
  int64_t parameters = 0;   // masters, momenta, working copies, gradients (and a checkpoint's copy)
  int64_t activations = 0;  // what a step keeps for the backward pass, plus the errors in flight
  int64_t total() const { return saturating_add(parameters, activations); }
};

// The integer network (golden/int_network.cpp): per element, activations keep 1 byte (uint8),
// streams 4 (int32), bnrelu 4 (output, x-hat int16, ReLU mask), maxpool 9 (output, int64
// arg-max); errors are int64 and up to three node-sized ones are alive at once; a parameter
// costs 32 bytes (int32 master, momentum, gradient, working copy, checkpoint copy).
TrainingMemory int_training_memory(const NetworkDesc& desc, int64_t batch);

// The FP32 twin (golden/fp32_network.cpp): values, gradients and saved batch-norm inputs as
// float (12 bytes per activation element), 16 bytes per parameter.
TrainingMemory fp32_training_memory(const NetworkDesc& desc, int64_t batch);

// "1.5 GiB", "734.0 MiB"; ">= 8 EiB" for a saturated estimate.
std::string format_bytes(int64_t bytes);

// Physical memory of this machine in bytes (0 if unknown).
int64_t physical_memory_bytes();

}  // namespace octet::golden
