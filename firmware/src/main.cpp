// medchain ESP32 medical sensor client. See README.md for wiring,
// provisioning and flashing; the logic lives in DeviceApp and the portable
// core (core/), which is unit-tested on the host.
#include <Arduino.h>

#include "device_app.hpp"

// Signing and JSON parsing need more than the default 8 KiB loop stack.
#ifdef SET_LOOP_TASK_STACK_SIZE
SET_LOOP_TASK_STACK_SIZE(16 * 1024);
#endif

namespace {
DeviceApp app;
}

void setup() { app.setup(); }

void loop() { app.loop(); }
