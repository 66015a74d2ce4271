// How a network's training step is scheduled (plain C++: shared by the SystemC model's
// scheduler, model/scheduler.h, and octet-sim's command line).
#pragma once

namespace octet::model {

// serial: one operation of the step graph at a time; concurrent: each operation as soon as
// its inputs are final and its unit is free (docs/architecture.md, "Schedule of a training step").
enum class Schedule : int { kSerial, kConcurrent };
inline const char* schedule_name(Schedule s) { return s == Schedule::kSerial ? "serial" : "concurrent"; }

}  // namespace octet::model
