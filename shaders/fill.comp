#version 450
// t[i] = value for i < count.
#include "elementwise.glsl"

layout(push_constant) uniform Push {
  uint off;   // first float relative to the bound range
  uint count; // floats to write
  float value;
} pc;
layout(std430, binding = 0) writeonly buffer T { float t[]; };

void main() {
  uint i = ew_index();
  if (i < pc.count) t[pc.off + i] = pc.value;
}
