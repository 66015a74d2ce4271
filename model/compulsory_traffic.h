// The compulsory DRAM traffic of a training step (model/step_report.h CompulsoryTraffic;
// docs/architecture.md, "Compulsory DRAM traffic"), from the workload alone: independent of
// the schedule, tiling, buffers and residency the simulation models.
#pragma once

#include "golden/network_desc.h"
#include "model/step_report.h"
#include "model/topology.h"

namespace octet::model {

CompulsoryTraffic compulsory_traffic(const golden::NetworkDesc& desc, int batch);
// SCALE-Sim rows: weights, the first row's input as the batch, every later row's input saved.
CompulsoryTraffic compulsory_traffic(const Topology& topology, int batch);

}  // namespace octet::model
